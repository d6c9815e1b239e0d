"""The embedded specs, read the same way the fake reads them, so tests iterate the error
tables instead of repeating them."""

import pathlib

import yaml

SPECS = pathlib.Path(__file__).resolve().parents[2] / "specs"


def load(api):
    return yaml.safe_load((SPECS / f"{api}.update-user.yaml").read_text())


def error_rows(api):
    return [(row["code"], row["status"]) for row in load(api)["errors"]]
