//! `--shard K/N`: one of N parts of the cases, so that N machines each run one and the
//! parts together are the whole run. Cases are dealt in turn, in the order the specs and
//! suites give them (the K-th, the (K+N)-th ...): the split depends only on the case list,
//! so every machine computes the same parts, and the parts differ in size by one at most.

use std::fmt;
use std::str::FromStr;

/// Part `index` (1-based) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("'{s}' is not K/N with 1 <= K <= N (e.g. 2/4)");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count): (usize, usize) = (
            k.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if count == 0 || index == 0 || index > count {
            return Err(bad());
        }
        Ok(Self { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Shard {
    /// Whether the case at `position` (0-based, in the full list) is in this part.
    pub fn holds(&self, position: usize) -> bool {
        position % self.count == self.index - 1
    }

    /// This part of `items`.
    pub fn select<T>(&self, items: Vec<T>) -> Vec<T> {
        items
            .into_iter()
            .enumerate()
            .filter(|(i, _)| self.holds(*i))
            .map(|(_, t)| t)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_disjoint_complete_and_even() {
        let items: Vec<usize> = (0..101).collect();
        for n in 1..=7 {
            let mut seen = Vec::new();
            for k in 1..=n {
                let part = Shard { index: k, count: n }.select(items.clone());
                assert!(part.len().abs_diff(101 / n) <= 1, "{k}/{n}: {}", part.len());
                seen.extend(part);
            }
            seen.sort();
            assert_eq!(seen, items, "{n} parts");
        }
    }

    #[test]
    fn k_of_n_is_read_strictly() {
        assert_eq!("2/4".parse(), Ok(Shard { index: 2, count: 4 }));
        for bad in ["0/4", "5/4", "1/0", "2", "a/b", "-1/3"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }
}
