//! The typed spec model: what one YAML file under `specs/` says about one documented
//! operation. `spec::load` parses and checks it; the fake and the runner only read it.
//!
//! Field names here are the YAML keys (`snake_case`); `specs/README.md` is the reference and
//! `specs/schema.json` is generated from these types.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One documented operation: everything the fake and the runner need to know about it.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    pub api: ApiInfo,
    pub protocol: Protocol,
    /// How constraint violations are worded.
    #[serde(default)]
    pub validation: Validation,
    pub auth: Auth,
    pub resource: Resource,
    pub parameters: Vec<Parameter>,
    #[serde(default)]
    pub rules: Vec<Rule>,
    pub errors: Vec<ErrorRow>,
    pub response: Response,
    #[serde(default)]
    pub examples: Vec<Example>,
    #[serde(default)]
    pub notes: Vec<Note>,
    /// For `api.kind: list`: how the list is filtered, paged and each item written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list: Option<ListSpec>,
    /// The rows the fake answers by trigger and by code, resolved when the spec is loaded,
    /// so that no request looks a row up by name or falls back to another.
    #[serde(skip)]
    #[schemars(skip)]
    pub rows: RowIndex,
}

/// Error rows by trigger and by code: indices into `errors` ([`Spec::resolve_rows`]).
#[derive(Debug, Clone, Default)]
pub struct RowIndex {
    malformed: usize,
    not_found: usize,
    conflict: usize,
    by_code: std::collections::HashMap<String, usize>,
}

impl Spec {
    /// The store collection the operation acts on: its own, or the one of the spec its
    /// resource is `shared_with`.
    pub fn store_id(&self) -> &str {
        self.resource.shared_with.as_deref().unwrap_or(&self.api.id)
    }

    /// Resolves the rows the fake answers without a violation to choose from: the first
    /// row whose trigger (then whose `also`) is malformed, not found, conflict; and every
    /// row by code. The loader refuses a spec that lacks one the fake can need.
    pub fn resolve_rows(&mut self) -> Result<(), String> {
        let find = |want: &dyn Fn(&Trigger) -> bool| {
            self.errors
                .iter()
                .position(|e| want(&e.trigger))
                .or_else(|| self.errors.iter().position(|e| e.also.iter().any(want)))
        };
        let malformed = find(&|t| *t == Trigger::Malformed).ok_or("no malformed row")?;
        let not_found = find(&|t| *t == Trigger::NotFound).ok_or("no not-found row")?;
        // A spec in which nothing can conflict needs no conflict row.
        let conflict = find(&|t| *t == Trigger::Conflict).unwrap_or(not_found);
        let by_code = self
            .errors
            .iter()
            .enumerate()
            .map(|(i, e)| (e.code.clone(), i))
            .collect();
        self.rows = RowIndex {
            malformed,
            not_found,
            conflict,
            by_code,
        };
        Ok(())
    }

    /// The row with `code`. Every code the spec itself names (rules, auth) is checked at
    /// load; a code from outside (a fault to inject) is looked up with [`Spec::row_if`].
    pub fn row(&self, code: &str) -> &ErrorRow {
        self.row_if(code)
            .expect("codes named in a spec resolve to rows (checked when it loads)")
    }

    pub fn row_if(&self, code: &str) -> Option<&ErrorRow> {
        self.rows.by_code.get(code).map(|i| &self.errors[*i])
    }

    /// The row for a request that cannot be decoded.
    pub fn malformed_row(&self) -> &ErrorRow {
        &self.errors[self.rows.malformed]
    }

    /// The row for a selector no resource has.
    pub fn not_found_row(&self) -> &ErrorRow {
        &self.errors[self.rows.not_found]
    }

    /// The row for a change that breaks a key or uniqueness.
    pub fn conflict_row(&self) -> &ErrorRow {
        &self.errors[self.rows.conflict]
    }
}

/// Who documents the operation, and where.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiInfo {
    /// Short identifier used on the command line and in paths, e.g. `aws-iam`.
    pub id: String,
    /// Human title, e.g. `AWS Identity and Access Management`.
    pub title: String,
    pub vendor: String,
    /// The operation's documented name, e.g. `UpdateUser`.
    pub operation: String,
    /// The document this spec encodes (seed file name or URL).
    pub document: String,
    /// The API version the document describes, when it names one.
    #[serde(default)]
    pub version: Option<String>,
    /// What the operation does to its resource (default `update`).
    #[serde(default)]
    pub kind: OpKind,
}

/// What an operation does to its resource.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum OpKind {
    /// Adds a resource: the key must be free (else the `conflict` row); unset fields
    /// take their defaults and generated values.
    Create,
    /// Answers one resource (else the `not-found` row).
    Read,
    /// Answers the resources, ordered by key, filtered and paged as `list` says.
    List,
    /// Changes one resource (the parameters' `sets` and `renames`).
    #[default]
    Update,
    /// Removes one resource (else the `not-found` row).
    Delete,
}

impl OpKind {
    pub fn name(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Read => "read",
            Self::List => "list",
            Self::Update => "update",
            Self::Delete => "delete",
        }
    }
}

/// How a `list` operation filters, pages and writes its items. The body template refers
/// to `${list.items}` (the page, each item written by `item`), `${list.next}` (the token
/// of the next page, unset on the last) and `${list.truncated}` (whether one follows);
/// with `paging: offset` also `${list.start}`, `${list.end}` and `${list.total}`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListSpec {
    /// The template of one item, over the resource (`${resource.F}`).
    pub item: serde_json::Value,
    /// What the `token` parameter carries: an opaque token the service gave (`key`, the
    /// default) or the number of the first row to answer (`offset`, 0 the first).
    #[serde(default)]
    pub paging: Paging,
    /// The request parameter carrying the token of the page to answer (IAM `Marker`,
    /// Transfer `NextToken`; with `paging: offset` the first row, NimbleOS `startRow`).
    #[serde(default)]
    pub token: Option<String>,
    /// With `paging: offset`: the request parameter carrying the row the page ends before
    /// (NimbleOS `endRow`); the page ends at whichever of it and the page size comes first.
    #[serde(default)]
    pub end: Option<String>,
    /// The request parameter carrying a comma-separated list of item members: each item
    /// then holds only those of its members (NimbleOS `fields`).
    #[serde(default)]
    pub fields: Option<String>,
    /// The request parameter carrying the page size (IAM `MaxItems`, Transfer
    /// `MaxResults`).
    #[serde(default)]
    pub page_size: Option<String>,
    /// The page size when the request sends none.
    pub default_page_size: usize,
    /// The error row (by code) answering a token the service did not give (Transfer
    /// `InvalidNextTokenException`); default: the catch-all invalid row.
    #[serde(default)]
    pub bad_token: Option<String>,
    /// Parameters that keep only some resources (besides the parameters that `selects`,
    /// which keep the resources whose key field equals them).
    #[serde(default)]
    pub filters: Vec<ListFilter>,
}

/// What a list's page token is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Paging {
    /// An opaque token the service gave with the previous page (the key the next page
    /// starts at); one it did not give answers the `bad_token` row.
    #[default]
    Key,
    /// A row number: the page starts at that row of the filtered, ordered list (0 the
    /// first; past the end, an empty page). `${list.next}` is the next page's first row;
    /// `${list.start}`, `${list.end}` (the row after the page's last) and `${list.total}`
    /// (every row the filters keep) are numbers.
    Offset,
}

/// A parameter that keeps only the resources whose `field` (or one of `fields`) matches
/// it.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListFilter {
    pub parameter: String,
    /// The resource field the parameter is matched against.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Several resource fields, instead of `field`: a resource is kept when one of them
    /// matches (for `word-prefixes`, when the words of all of them together do).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
    #[serde(rename = "match")]
    pub matches: FilterMatch,
    /// Compare text whatever its letter case.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub case_insensitive: bool,
    /// The parameter's value when the request sends none (a filter the service applies
    /// by default); without one, an absent parameter keeps every resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// Parameters that, when sent, turn this filter off (the service ignores this
    /// parameter when one of those is given).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignored_with: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum FilterMatch {
    /// The field's text starts with the parameter's.
    Prefix,
    /// The field equals the parameter.
    Equals,
    /// The parameter is a comma-separated list (each item trimmed of spaces); the field
    /// equals one of its items.
    OneOf,
    /// The field's text contains the parameter's.
    Contains,
    /// Every space-separated word of the parameter starts a word of the field (of the
    /// fields, taken together): `Ma J` keeps `Mateo Jackson`.
    WordPrefixes,
    /// The parameter's value names the field values it keeps: `{ALL: [], ACTIVE_PENDING:
    /// [ACTIVE, PENDING]}`; an empty list keeps every resource, a value not named keeps
    /// none.
    Values(std::collections::BTreeMap<String, Vec<String>>),
}

impl ListFilter {
    /// The resource fields the filter looks at.
    pub fn field_names(&self) -> impl Iterator<Item = &str> {
        self.field.iter().chain(&self.fields).map(String::as_str)
    }

    /// Whether the filter keeps the resource `r` for the request's `params` (validated).
    pub fn keeps(
        &self,
        params: &serde_json::Map<String, serde_json::Value>,
        r: &serde_json::Map<String, serde_json::Value>,
    ) -> bool {
        if self.ignored_with.iter().any(|p| params.contains_key(p)) {
            return true;
        }
        let want = match params.get(&self.parameter) {
            Some(v) => crate::spec::validate::display(v),
            None => match &self.default {
                Some(d) => d.clone(),
                None => return true,
            },
        };
        let fold = |t: String| {
            if self.case_insensitive {
                t.to_lowercase()
            } else {
                t
            }
        };
        let got: Vec<String> = self
            .field_names()
            .filter_map(|f| r.get(f))
            .filter(|v| !v.is_null())
            .map(|v| fold(crate::spec::validate::display(v)))
            .collect();
        let folded = fold(want.clone());
        let want = folded.as_str();
        match &self.matches {
            FilterMatch::Prefix => got.iter().any(|g| g.starts_with(want)),
            FilterMatch::Equals => got.iter().any(|g| g == want),
            FilterMatch::Contains => got.iter().any(|g| g.contains(want)),
            FilterMatch::OneOf => {
                let items: Vec<&str> = want.split(',').map(str::trim).collect();
                got.iter().any(|g| items.contains(&g.as_str()))
            }
            FilterMatch::WordPrefixes => {
                let words: Vec<&str> = got.iter().flat_map(|g| g.split_whitespace()).collect();
                want.split_whitespace()
                    .all(|w| words.iter().any(|g| g.starts_with(w)))
            }
            // The value names the field values kept (looked up as sent).
            FilterMatch::Values(map) => {
                match map.iter().find(|(k, _)| fold((*k).clone()) == want) {
                    None => false,
                    Some((_, keep)) if keep.is_empty() => true,
                    Some((_, keep)) => got
                        .iter()
                        .any(|g| keep.iter().any(|k| fold(k.clone()) == *g)),
                }
            }
        }
    }
}

/// The wire protocol and its settings. One codec exists per kind
/// ([`crate::protocol`]); what differs between vendors that share a kind (an error
/// envelope, a body envelope, where the API is served) is a setting here, not code.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Protocol {
    /// AWS Query style: `Action=<action>` (and `Version=` when the API has one) in a form
    /// body or the query string; XML answers (IAM; the Nexfs console API).
    AwsQuery(QueryProtocol),
    /// AWS JSON 1.0/1.1: `POST /` with `X-Amz-Target: <target>`.
    AwsJson(JsonProtocol),
    /// REST with JSON bodies: method + path template with `{Label}` segments (restJson1;
    /// NimbleOS with its `data` envelope and `messages` errors).
    RestJson(RestProtocol),
}

/// Settings of the `aws-query` kind.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QueryProtocol {
    pub action: String,
    /// The `Version` every request carries; absent: requests carry none (and one that
    /// does is not this API's).
    #[serde(default)]
    pub version: Option<String>,
    /// Where the API is served (the runner sends its requests here).
    #[serde(default = "root_path")]
    pub path: String,
    /// Further paths the fake also answers the operation at, for requests that no other
    /// API claims there (e.g. `/`, where other query APIs take the same `Action`: the
    /// SigV4 scope or `Version` decides first).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// Namespace of the answers (the `ErrorResponse` of `aws` errors carries it).
    #[serde(default)]
    pub xml_namespace: Option<String>,
    /// Write `<?xml version="1.0" encoding="UTF-8"?>` before every answer.
    #[serde(default)]
    pub xml_declaration: bool,
    /// How the runner sends requests: `form` (a POST body, as AWS SDKs do) or `query`
    /// (a GET with the parameters in the query string). The fake takes both.
    #[serde(default)]
    pub send_as: QuerySend,
    /// The error envelope.
    #[serde(default)]
    pub errors: QueryErrors,
}

fn root_path() -> String {
    "/".into()
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum QuerySend {
    #[default]
    Form,
    Query,
}

/// Error envelopes of the `aws-query` kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum QueryErrors {
    /// `<ErrorResponse xmlns><Error><Type/><Code/><Message/></Error><RequestId/>`, with
    /// an `x-amzn-RequestId` header (AWS).
    #[default]
    Aws,
    /// `<Error><Code/><Message/><Resource/><RequestId/></Error>` with no wrapper, no
    /// `Type` and no request-id header (the Nexfs console API's "REST Error Responses").
    Bare {
        /// The `<Resource>` every error names.
        resource: String,
    },
}

/// Settings of the `aws-json` kind.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JsonProtocol {
    pub json_version: String,
    /// Full X-Amz-Target value, e.g. `TransferService.UpdateUser`.
    pub target: String,
}

/// Settings of the `rest-json` kind.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RestProtocol {
    pub method: String,
    pub path: String,
    /// The member that wraps request and success bodies (`data` on NimbleOS:
    /// `{"data": {...}}`); none: the body is the members themselves.
    #[serde(default)]
    pub envelope: Option<String>,
    /// The error format.
    #[serde(default)]
    pub errors: RestErrors,
    /// The error for a request to this path with another method (default: AWS's
    /// `UnknownOperationException`, 404).
    #[serde(default)]
    pub unknown_operation: Option<UnknownOperation>,
    /// What the API's clients do with a redirect (default `report`: AWS SDKs hand it back
    /// as the answer). The runner does as they do.
    #[serde(default, skip_serializing_if = "Redirects::is_report")]
    pub redirects: Redirects,
}

/// What a protocol's clients do with a 3xx answer carrying `Location`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Redirects {
    /// The redirect is the answer (botocore sends through urllib3 with `Retry(False)`).
    #[default]
    Report,
    /// Followed, up to 30 hops, as `requests` does (nimble-sdk).
    Follow,
}

impl Redirects {
    fn is_report(&self) -> bool {
        *self == Redirects::Report
    }
}

/// Error formats of the `rest-json` kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RestErrors {
    /// restJson1: the code in `x-amzn-ErrorType`, the body `{"Message": ...}` plus the
    /// row's members, an `x-amzn-RequestId` header.
    #[default]
    Aws,
    /// `{"messages": [{"code", "severity": "error", "text", "arguments"}]}` (NimbleOS).
    Messages,
}

/// An error answered for an operation the API does not serve.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UnknownOperation {
    pub code: String,
    pub status: u16,
}

impl Protocol {
    pub fn kind_name(&self) -> &'static str {
        match self {
            Protocol::AwsQuery(_) => "aws-query",
            Protocol::AwsJson(_) => "aws-json",
            Protocol::RestJson(_) => "rest-json",
        }
    }

    /// Whether the API's clients follow redirects (only a `rest-json` API can say so: the
    /// AWS protocols' SDKs never do).
    pub fn follows_redirects(&self) -> bool {
        matches!(self, Protocol::RestJson(r) if r.redirects == Redirects::Follow)
    }

    /// Whether answers are XML (every value text) rather than JSON.
    pub fn is_xml(&self) -> bool {
        matches!(self, Protocol::AwsQuery(_))
    }

    /// Whether the API answers as AWS services do: `x-amzn-RequestId` headers, and a
    /// JSON member of the wrong type is an undecodable request (Coral's
    /// `SerializationException`), not a validation error.
    pub fn aws_errors(&self) -> bool {
        match self {
            Protocol::AwsQuery(q) => q.errors == QueryErrors::Aws,
            Protocol::AwsJson(_) => true,
            Protocol::RestJson(r) => r.errors == RestErrors::Aws,
        }
    }

    /// The body envelope member, if requests and answers have one.
    pub fn envelope(&self) -> Option<&str> {
        match self {
            Protocol::RestJson(r) => r.envelope.as_deref(),
            _ => None,
        }
    }
}

/// How the fake words constraint violations, and names members in those messages.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Validation {
    #[serde(default)]
    pub style: ValidationStyle,
    #[serde(default)]
    pub member_names: MemberNames,
    /// Members the spec does not define are violations (NimbleOS); AWS ignores them.
    #[serde(default)]
    pub reject_unknown: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ValidationStyle {
    /// AWS/Coral: `1 validation error detected: Value 'x' at 'userName' failed to satisfy
    /// constraint: Member must ...`, all violations in one message.
    #[default]
    Aws,
    /// One sentence naming the first violation: `Invalid value for 'name': ...`.
    Plain,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum MemberNames {
    /// `NewUserName` is reported as `newUserName` (AWS).
    #[default]
    LowerCamel,
    /// Names are reported as they are on the wire.
    AsIs,
}

/// How requests are authenticated, and which error row each failure answers with.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "scheme", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Auth {
    /// AWS Signature Version 4 in the `Authorization` header.
    Sigv4 {
        /// Credential-scope service, e.g. `iam`.
        service: String,
        /// Fixed credential-scope region (Nexfs signs `nexfs`); any region when absent.
        #[serde(default)]
        region: Option<String>,
        /// Whether `X-Amz-Security-Token` must be present (Nexfs sessions).
        #[serde(default)]
        session_token_required: bool,
        errors: Sigv4Errors,
    },
    /// A session token: a login (`POST login_path` with a username and a password, in
    /// the protocol's envelope) gives a token, sent in `header` after (NimbleOS).
    Token {
        header: String,
        /// Where sessions are made (`POST`), read (`GET .../{id}`) and ended (`DELETE`).
        login_path: String,
        /// Error code for a missing, unknown or expired token, and for a failed login.
        unauthenticated: String,
    },
}

/// The error code (a row of `errors`) each SigV4 failure answers with.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Sigv4Errors {
    /// No `Authorization` header at all.
    pub missing: String,
    /// `Authorization` present but not parseable, or a required part missing.
    pub incomplete: String,
    /// Access key (or session token) not known.
    pub unknown_key: String,
    /// Signature does not match.
    pub bad_signature: String,
    /// `X-Amz-Date` more than 15 minutes away from now.
    pub expired: String,
}

/// The state the operation acts on.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Resource {
    /// The `api.id` of the spec that defines this resource and owns its store: this
    /// spec's operation acts on that spec's resources (a GetUser beside an UpdateUser).
    /// The rest of the section is then left out; it is the owner's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_with: Option<String>,
    /// Name used in messages, e.g. `user`.
    #[serde(default)]
    pub name: String,
    /// Fields that together identify one resource.
    #[serde(default)]
    pub key: Vec<String>,
    /// Key values name a resource whatever their letter case (IAM: `UserName=BOB` selects
    /// `Bob`), so two resources' keys never differ only in case. The stored value keeps
    /// the case it was given.
    #[serde(default)]
    pub key_case_insensitive: bool,
    /// With a case-insensitive key: what a rename that changes only the letter case of
    /// the resource's own key answers (IAM refuses `Bob` → `BOB` as a conflict).
    #[serde(default)]
    pub case_only_rename: CaseOnlyRename,
    /// The resource lives within a parent that some of its key fields name (Transfer: a
    /// user within its server). A request for a resource whose parent does not exist is
    /// answered by the `not-found` row as the parent says.
    #[serde(default)]
    pub parent: Option<Parent>,
    /// Field sets that must be unique across resources (besides the key).
    #[serde(default)]
    pub unique: Vec<Unique>,
    #[serde(default)]
    pub fields: Vec<Field>,
    /// Resources present in a fresh fake (the document's own examples).
    #[serde(default)]
    pub fixtures: Vec<serde_json::Map<String, serde_json::Value>>,
}

/// The resource a resource lives within. It exists while at least one resource names it
/// (a fixture, a seeded resource).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Parent {
    /// Name used in messages, e.g. `server`.
    pub name: String,
    /// The resource's key fields that name the parent, e.g. `[ServerId]`.
    pub key: Vec<String>,
    /// How the `not-found` row answers when the parent itself does not exist (instead of
    /// the row's own message and members).
    #[serde(default)]
    pub not_found: NotFoundAnswer,
}

/// A message template and body members for a `not-found` answer.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NotFoundAnswer {
    /// Message template (`${Param}`); the row's own message when absent.
    #[serde(default)]
    pub message: Option<String>,
    /// Extra body members (templates); the row's own members when empty.
    #[serde(default)]
    pub members: serde_json::Map<String, serde_json::Value>,
}

/// What a rename that changes only the letter case of a case-insensitive key answers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum CaseOnlyRename {
    /// The key takes the new letter case.
    #[default]
    Allowed,
    /// Refused with the `conflict` row: the new name is already taken, by the resource
    /// itself.
    Conflict,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Unique {
    pub fields: Vec<String>,
    /// Names differing only by case collide (IAM).
    #[serde(default)]
    pub case_insensitive: bool,
}

/// One field of the resource.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Field {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: FieldType,
    /// Value when neither a fixture nor an update sets it.
    #[serde(default)]
    pub default: Option<serde_json::Value>,
    /// How the fake makes a value for a new resource.
    #[serde(default)]
    pub generate: Option<Generator>,
    /// Recomputed from other fields after every change, e.g.
    /// `arn:aws:iam::123456789012:user${Path}${UserName}`.
    #[serde(default)]
    pub derive: Option<String>,
    /// `derive` read once, on first use: its text and its fields, each with its position
    /// among the resource's fields.
    #[serde(skip)]
    #[schemars(skip)]
    pub(crate) derive_pieces: std::sync::OnceLock<Vec<crate::spec::template::Piece>>,
    /// Set to the current time whenever the resource changes.
    #[serde(default)]
    pub touch_on_update: bool,
    /// The runner compares this field loosely (its value differs between implementations).
    #[serde(default)]
    pub volatile: bool,
    #[serde(default)]
    pub doc: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum FieldType {
    String,
    Integer,
    Boolean,
    /// Seconds since the epoch (a number on the wire).
    Timestamp,
    /// An ISO-8601 date-time string.
    DateTime,
    List,
    Object,
}

/// Value generators for new resources.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum Generator {
    /// A random UUID v4.
    Uuid,
    /// `prefix` followed by `len` random upper-case letters and digits (AWS unique ids).
    AwsId { prefix: String, len: usize },
    /// `len` random lower-case hex digits after `prefix` (NimbleOS 42-hex object ids).
    Hex { prefix: String, len: usize },
    /// The current time.
    Now,
}

/// Where a parameter travels in the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Location {
    /// Form-encoded body (awsQuery).
    Form,
    /// URL query string.
    Query,
    /// An HTTP header (`wire_name` gives the header name).
    Header,
    /// A `{Label}` segment of the path.
    Path,
    /// A member of the JSON body.
    Body,
}

/// Parameter value types, as the document states them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ParamType {
    String,
    /// Signed 64-bit integer (`range` narrows it).
    Integer,
    /// Unsigned 64-bit integer.
    Unsigned,
    Boolean,
    /// A list; `member` describes each item and `items` bounds the count.
    List,
    /// A structure; `members` describes it.
    Structure,
    /// A string carrying URI-encoded JSON whose members are given in `members` (Nexfs).
    JsonString,
    /// Any JSON value (Smithy's `document`: a free-form value), stored and echoed as given.
    Document,
}

/// Inclusive bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Bounds {
    #[serde(default)]
    pub min: Option<u64>,
    #[serde(default)]
    pub max: Option<u64>,
}

/// Inclusive numeric range for integer parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Range {
    #[serde(default)]
    pub min: Option<i64>,
    #[serde(default)]
    pub max: Option<i64>,
}

/// One request parameter (or a nested member of one).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Parameter {
    pub name: String,
    /// Top-level parameters only; nested members inherit their parent's.
    #[serde(default)]
    pub location: Option<Location>,
    /// Name on the wire when it differs from `name` (a header name, a path label).
    #[serde(default)]
    pub wire_name: Option<String>,
    #[serde(rename = "type")]
    pub ty: ParamType,
    #[serde(default)]
    pub required: bool,
    /// Length bounds in characters (strings).
    #[serde(default)]
    pub length: Option<Bounds>,
    /// Value bounds (integers).
    #[serde(default)]
    pub range: Option<Range>,
    /// Full-match regular expression with Java/AWS semantics (`\w` is ASCII).
    #[serde(default)]
    pub pattern: Option<String>,
    /// Allowed values.
    #[serde(default, rename = "enum")]
    pub allowed: Option<Vec<String>>,
    /// Item-count bounds (lists).
    #[serde(default)]
    pub items: Option<Bounds>,
    /// Item description (lists).
    #[serde(default)]
    pub member: Option<Box<Parameter>>,
    /// Members (structures and JSON strings).
    #[serde(default)]
    pub members: Vec<Parameter>,
    /// The value is a secret (not echoed in messages or logs).
    #[serde(default)]
    pub sensitive: bool,
    /// Selects the resource by this key field.
    #[serde(default)]
    pub selects: Option<String>,
    /// Stores the value into this resource field.
    #[serde(default)]
    pub sets: Option<String>,
    /// Changes this key field (checked for uniqueness).
    #[serde(default)]
    pub renames: Option<String>,
    /// The document's description.
    #[serde(default)]
    pub doc: Option<String>,
    /// `pattern`, compiled by the loader.
    #[serde(skip)]
    #[schemars(skip)]
    pub compiled: Option<crate::spec::pattern::Pattern>,
}

impl Parameter {
    /// The name that appears on the wire.
    pub fn wire(&self) -> &str {
        self.wire_name.as_deref().unwrap_or(&self.name)
    }
}

/// A cross-field rule the document states.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Identifier used by error triggers (`trigger: {rule: NAME}`).
    pub name: String,
    pub check: RuleCheck,
    /// Error code answered when the rule is broken.
    pub error: String,
    /// Message template for that error.
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub doc: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum RuleCheck {
    /// When `parameter` is present, `other` must be present with value `equals`
    /// (or the stored resource must already hold it).
    RequiresValue {
        parameter: String,
        other: String,
        equals: serde_json::Value,
    },
    /// The caller's session must hold `role`. With `when_present`, only when one of those
    /// parameters is sent; with `unless_self`, not when the caller updates itself.
    RequiresRole {
        role: String,
        #[serde(default)]
        when_present: Vec<String>,
        #[serde(default)]
        unless_self: bool,
    },
}

/// Fault side, as AWS models it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Fault {
    Client,
    Server,
}

/// One row of the document's error table (or a common error the service really sends).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrorRow {
    /// Code on the wire (`<Code>`, `__type`, `x-amzn-ErrorType`, NimbleOS `code`, ...).
    pub code: String,
    /// HTTP status.
    pub status: u16,
    pub fault: Fault,
    /// What the document says it means.
    pub meaning: String,
    /// When the fake answers with it.
    pub trigger: Trigger,
    /// Further conditions answered with the same row (a document with one 400 row for
    /// both undecodable and invalid requests: `trigger: {invalid: {}}`, `also: [malformed]`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also: Vec<Trigger>,
    /// Message template (`${Param}`, `${resource.Field}`, `${detail}` are substituted).
    #[serde(default)]
    pub message: Option<String>,
    /// Where the row comes from when not from the document's own table.
    #[serde(default)]
    pub source: Option<String>,
    /// Extra members in the error body (restJson/awsJson), as templates.
    #[serde(default)]
    pub members: serde_json::Map<String, serde_json::Value>,
}

impl ErrorRow {
    /// `trigger` followed by `also`.
    pub fn triggers(&self) -> impl Iterator<Item = &Trigger> {
        std::iter::once(&self.trigger).chain(&self.also)
    }
}

/// The condition that makes the fake answer with an error row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum Trigger {
    /// Input breaks a constraint. Empty lists mean any constraint / any parameter.
    Invalid {
        #[serde(default)]
        constraints: Vec<Constraint>,
        #[serde(default)]
        parameters: Vec<String>,
    },
    /// The request cannot be decoded at all (bad body, unknown action, wrong method).
    Malformed,
    /// The selected resource does not exist.
    NotFound,
    /// A rename would break a uniqueness constraint.
    Conflict,
    /// Authentication failed (referenced from `auth`).
    Unauthenticated,
    /// The caller lacks a permission (referenced from a `requires-role` rule).
    Forbidden,
    /// A cross-field rule is broken (referenced from `rules`).
    Rule(String),
    /// Only answered when injected through the control plane (service faults, throttling).
    Injected,
}

/// The kinds of constraint a parameter can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Constraint {
    Required,
    Type,
    Length,
    Range,
    Pattern,
    Enum,
    Items,
    Unknown,
}

/// The success response.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Response {
    pub status: u16,
    pub content_type: String,
    /// Body template: for XML a tree of elements (`@name` keys are attributes), for JSON
    /// the JSON itself. A string that is exactly `${resource.F}` is replaced by the field's
    /// typed value (and the member omitted when unset); `${request_id}` by the request id.
    pub body: serde_json::Value,
    /// Extra headers (templates).
    #[serde(default)]
    pub headers: std::collections::BTreeMap<String, String>,
    /// How the runner compares parts of the body that vary between runs.
    #[serde(default)]
    pub compare: Vec<CompareRule>,
    /// `body`, parsed once when the spec loads (what the fake renders).
    #[serde(skip)]
    #[schemars(skip)]
    pub compiled: Option<crate::spec::template::Template>,
    /// The format of the request id the service puts in its answers (success and error
    /// bodies): the runner checks it before masking it.
    #[serde(default = "default_request_id")]
    pub request_id: ValueFormat,
    /// `content_type` as a header value, made on first use and copied after: its text is
    /// interned ([`interned`]), so a copy neither allocates nor touches a shared count.
    #[serde(skip)]
    #[schemars(skip)]
    pub content_type_header: std::sync::OnceLock<Option<http::HeaderValue>>,
    /// The largest success body written so far: the next one's buffer starts that big,
    /// so a body is written without growing its buffer.
    #[serde(skip)]
    #[schemars(skip)]
    pub body_size: SizeHint,
}

/// A size remembered across requests (relaxed: a stale read only costs a regrown buffer).
#[derive(Debug, Default)]
pub struct SizeHint(std::sync::atomic::AtomicUsize);

impl Clone for SizeHint {
    fn clone(&self) -> Self {
        Self(std::sync::atomic::AtomicUsize::new(self.get()))
    }
}

impl SizeHint {
    pub fn get(&self) -> usize {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Remembers `n` if it is larger than what is kept (written only then, so readers on
    /// other cores keep their copy of it).
    pub fn note(&self, n: usize) {
        if n > self.get() {
            self.0.fetch_max(n, std::sync::atomic::Ordering::Relaxed);
        }
    }
}

impl Response {
    /// The `Content-Type` header of a successful answer (`None` when the spec's text is
    /// not a valid header value).
    pub fn content_type_header(&self) -> Option<http::HeaderValue> {
        self.content_type_header
            .get_or_init(|| {
                http::HeaderValue::from_str(&self.content_type)
                    .ok()
                    .map(|_| http::HeaderValue::from_static(interned(&self.content_type)))
            })
            .clone()
    }
}

/// `text` kept for the life of the process, once per distinct text: for the few header
/// values specs give (content types), which every answer repeats. The set only grows with
/// the distinct texts of the specs loaded, not with the requests or engines.
fn interned(text: &str) -> &'static str {
    static TEXTS: std::sync::Mutex<std::collections::BTreeSet<&'static str>> =
        std::sync::Mutex::new(std::collections::BTreeSet::new());
    let mut texts = TEXTS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(t) = texts.get(text) {
        return t;
    }
    let t: &'static str = Box::leak(text.to_owned().into_boxed_str());
    texts.insert(t);
    t
}

fn default_request_id() -> ValueFormat {
    ValueFormat::Uuid
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CompareRule {
    /// Slash-separated path into the body tree, e.g. `UpdateUserResponse/ResponseMetadata/RequestId`.
    pub path: String,
    pub mode: CompareMode,
    /// A `pattern` mode's regex, compiled (anchored) by the loader: the runner matches it
    /// on every answer.
    #[serde(skip)]
    #[schemars(skip)]
    pub compiled: Option<regex::Regex>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum CompareMode {
    Exact,
    /// Present, any value (prefer `format`, which also checks the value's shape).
    Present,
    Ignored,
    /// A string matching this regex (whole value).
    Pattern(String),
    /// A value of this format (type included: `epoch-seconds` is a JSON number).
    Format(ValueFormat),
}

/// The shape of a value that varies between runs. In JSON the type is part of the format
/// (`integer` and `epoch-seconds` are numbers, the rest strings); in XML every value is
/// text, so `integer` and `epoch-seconds` are digit strings there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ValueFormat {
    /// `8-4-4-4-12` hexadecimal digits (AWS request ids).
    Uuid,
    /// A whole number (a JSON integer; digits in XML).
    Integer,
    /// Seconds since the epoch, a JSON number (fraction allowed); digits in XML.
    EpochSeconds,
    /// An ISO-8601 / RFC 3339 date-time string.
    #[serde(rename = "iso-8601")]
    Iso8601,
    /// An ARN: `arn:partition:service:region:account:resource`.
    Arn,
    /// Any non-empty string.
    NonEmpty,
}

impl ValueFormat {
    /// Whether `v` has this format; `xml` when the value is XML text.
    pub fn accepts(self, v: &serde_json::Value, xml: bool) -> bool {
        use serde_json::Value;
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        match (self, v) {
            (Self::Integer, Value::Number(n)) if !xml => n.is_i64() || n.is_u64(),
            (Self::EpochSeconds, Value::Number(n)) if !xml => n.as_f64().is_some_and(|f| f >= 0.0),
            (Self::Integer, Value::String(s)) if xml => digits(s.strip_prefix('-').unwrap_or(s)),
            (Self::EpochSeconds, Value::String(s)) if xml => {
                let (int, frac) = s.split_once('.').unwrap_or((s, "0"));
                digits(int) && digits(frac)
            }
            (Self::Uuid, Value::String(s)) => {
                let parts: Vec<&str> = s.split('-').collect();
                parts.iter().map(|p| p.len()).eq([8, 4, 4, 4, 12])
                    && parts
                        .iter()
                        .all(|p| p.bytes().all(|b| b.is_ascii_hexdigit()))
            }
            (Self::Iso8601, Value::String(s)) => time::OffsetDateTime::parse(
                s,
                &time::format_description::well_known::Iso8601::DEFAULT,
            )
            .is_ok(),
            (Self::Arn, Value::String(s)) => {
                let parts: Vec<&str> = s.splitn(6, ':').collect();
                parts.len() == 6
                    && parts[0] == "arn"
                    && !parts[1].is_empty()
                    && !parts[2].is_empty()
                    && !parts[5].is_empty()
            }
            (Self::NonEmpty, Value::String(s)) => !s.trim().is_empty(),
            _ => false,
        }
    }

    /// The name shown in snapshots and failures (`<uuid>`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Uuid => "uuid",
            Self::Integer => "integer",
            Self::EpochSeconds => "epoch-seconds",
            Self::Iso8601 => "iso-8601",
            Self::Arn => "arn",
            Self::NonEmpty => "non-empty",
        }
    }
}

/// One of the document's examples.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Example {
    pub name: String,
    #[serde(default)]
    pub doc: Option<String>,
    /// The request as the document shows it, verbatim.
    #[serde(default)]
    pub document_request: Option<String>,
    /// The request's parameters (by spec parameter name).
    pub params: serde_json::Map<String, serde_json::Value>,
    pub expect: Expectation,
    /// The response body as the document shows it (parsed), when it shows one.
    #[serde(default)]
    pub document_response: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum Expectation {
    /// Success; `body` (optional) is the expected body tree.
    Success {
        #[serde(default)]
        body: Option<serde_json::Value>,
    },
    /// The error row with this code.
    Error(String),
}

/// Where the document is wrong, self-contradictory or silent, and what the spec does.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Note {
    /// Which part of the spec the note is about, e.g. `parameters.NewPath`.
    pub about: String,
    /// What the document says (or that it is silent).
    pub document: String,
    /// What the spec does instead.
    pub spec: String,
    /// The evidence (service model, SDK, observed behaviour).
    #[serde(default)]
    pub source: Option<String>,
}
