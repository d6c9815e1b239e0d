//! The route table: which specs a request may be for, found by the name the request gives
//! its operation in each protocol (`Action`, `X-Amz-Target`, the HTTP method), so that only
//! those specs' [`fit`](super::fit) is asked. A spec can only fit (`Yes` or `Alias`) a
//! request that names its operation this way, so narrowing changes no routing decision;
//! when no candidate fits, the engine asks every spec (unknown operations, malformed
//! requests), as it did before the table.

use super::Probe;
use crate::spec::model::{Protocol, Spec};
use crate::text::by_length;

/// Spec positions by operation name, each list in spec order.
#[derive(Debug, Default)]
pub struct Routes {
    /// aws-query specs by `Action`.
    by_action: Table,
    /// aws-json specs by `X-Amz-Target`.
    by_target: Table,
    /// REST specs by method (upper case).
    by_method: Table,
}

/// Names sorted, each with its spec positions: found by binary search, a few short
/// comparisons where a `HashMap` hashes the whole name with SipHash first. Sorted by
/// length first, so that most steps compare two lengths rather than two texts.
#[derive(Debug, Default)]
struct Table(Vec<(String, Vec<usize>)>);

impl Table {
    fn add(&mut self, name: String, position: usize) {
        match self.0.binary_search_by(|(n, _)| by_length(n, &name)) {
            Ok(i) => self.0[i].1.push(position),
            Err(i) => self.0.insert(i, (name, vec![position])),
        }
    }

    fn get(&self, name: &str) -> Option<&[usize]> {
        let i = self.0.binary_search_by(|(n, _)| by_length(n, name)).ok()?;
        Some(&self.0[i].1)
    }
}

impl Routes {
    pub fn new<'s>(specs: impl IntoIterator<Item = &'s Spec>) -> Self {
        let mut routes = Routes::default();
        for (i, spec) in specs.into_iter().enumerate() {
            let (table, name) = match &spec.protocol {
                Protocol::AwsQuery(q) => (&mut routes.by_action, q.action.clone()),
                Protocol::AwsJson(j) => (&mut routes.by_target, j.target.clone()),
                Protocol::RestJson(r) => (&mut routes.by_method, r.method.to_ascii_uppercase()),
            };
            table.add(name, i);
        }
        routes
    }

    /// The positions of the specs `req` may be for, in spec order.
    pub fn candidates<'a>(&'a self, probe: &Probe<'_>) -> impl Iterator<Item = usize> + Clone + 'a {
        let list = |table: &'a Table, name: Option<&str>| {
            name.and_then(|n| table.get(n)).unwrap_or_default()
        };
        let target = probe.target().and_then(|v| v.to_str().ok());
        merged([
            list(&self.by_action, probe.action()),
            list(&self.by_target, target),
            list(&self.by_method, Some(probe.req.method().as_str())),
        ])
    }
}

/// The union of sorted lists with no element in common, in order.
fn merged<const N: usize>(mut lists: [&[usize]; N]) -> impl Iterator<Item = usize> + Clone + '_ {
    std::iter::from_fn(move || {
        let (l, _) = lists
            .iter()
            .enumerate()
            .filter_map(|(l, list)| list.first().map(|first| (l, *first)))
            .min_by_key(|(_, first)| *first)?;
        let (head, rest) = lists[l].split_first()?;
        lists[l] = rest;
        Some(*head)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_finds_each_name_with_its_positions_in_order() {
        let mut t = Table::default();
        for (i, name) in [
            "UpdateUser",
            "GetUser",
            "UpdateUser",
            "A",
            "Zeta",
            "GetUser",
        ]
        .into_iter()
        .enumerate()
        {
            t.add(name.to_string(), i);
        }
        assert_eq!(t.get("UpdateUser"), Some(&[0, 2][..]));
        assert_eq!(t.get("GetUser"), Some(&[1, 5][..]));
        assert_eq!(t.get("A"), Some(&[3][..]));
        assert_eq!(t.get("Zeta"), Some(&[4][..]));
        assert_eq!(t.get("updateuser"), None);
        assert_eq!(t.get("UpdateUsers"), None);
        assert_eq!(t.get("Zet"), None);
        assert_eq!(t.get(""), None);
    }

    #[test]
    fn merged_lists_come_out_in_order() {
        let all: Vec<usize> = merged([&[1, 4, 9][..], &[0, 5], &[], &[2, 3, 10]]).collect();
        assert_eq!(all, [0, 1, 2, 3, 4, 5, 9, 10]);
    }
}
