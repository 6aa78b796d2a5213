//! The regular expressions of Fast Regex patterns: character sets, expressions kept in a
//! normal form, and what matching and cutting a pattern into steps need of them (whether an
//! expression matches the empty string, its derivative by a character, its fixed length).

use std::sync::Arc;

/// A set of characters, as sorted, disjoint, non-adjacent ranges of code points.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) struct CharSet(pub(super) Vec<(u32, u32)>);

impl CharSet {
    pub(super) fn from_ranges(mut ranges: Vec<(u32, u32)>) -> CharSet {
        ranges.sort_unstable();
        let mut merged: Vec<(u32, u32)> = Vec::with_capacity(ranges.len());
        for (low, high) in ranges {
            match merged.last_mut() {
                Some(last) if low <= last.1.saturating_add(1) => last.1 = last.1.max(high),
                _ => merged.push((low, high)),
            }
        }
        CharSet(merged)
    }

    pub(super) fn single(c: char) -> CharSet {
        CharSet(vec![(c as u32, c as u32)])
    }

    pub(super) fn any() -> CharSet {
        CharSet(vec![(0, char::MAX as u32)])
    }

    pub(super) fn union(&self, other: &CharSet) -> CharSet {
        CharSet::from_ranges(self.0.iter().chain(&other.0).copied().collect())
    }

    pub(super) fn complement(&self) -> CharSet {
        let mut out = Vec::new();
        let mut next = 0u32;
        for &(low, high) in &self.0 {
            if low > next {
                out.push((next, low - 1));
            }
            next = high.saturating_add(1);
        }
        if next <= char::MAX as u32 {
            out.push((next, char::MAX as u32));
        }
        CharSet(out)
    }

    pub(super) fn contains(&self, c: char) -> bool {
        let code = c as u32;
        self.0
            .binary_search_by(|&(low, high)| {
                if high < code {
                    std::cmp::Ordering::Less
                } else if low > code {
                    std::cmp::Ordering::Greater
                } else {
                    std::cmp::Ordering::Equal
                }
            })
            .is_ok()
    }
}

/// A regular expression over characters, kept in a normal form by its constructors (unions
/// and intersections flat, sorted and without duplicates; concatenations nested to the
/// right) so that the derivatives of an expression are finitely many.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) enum Re {
    /// `#`: no string at all.
    Nothing,
    /// The empty string.
    Empty,
    /// One character of the set.
    Chars(CharSet),
    Concat(Arc<Re>, Arc<Re>),
    Union(Vec<Arc<Re>>),
    Intersection(Vec<Arc<Re>>),
    /// Between `min` and `max` (unbounded when `None`) repetitions.
    Repeat(Arc<Re>, u32, Option<u32>),
}

pub(super) fn nothing() -> Arc<Re> {
    Arc::new(Re::Nothing)
}

pub(super) fn empty() -> Arc<Re> {
    Arc::new(Re::Empty)
}

pub(super) fn chars(set: CharSet) -> Arc<Re> {
    Arc::new(Re::Chars(set))
}

pub(super) fn literal(text: &str) -> Arc<Re> {
    text.chars()
        .rev()
        .fold(empty(), |rest, c| concat(chars(CharSet::single(c)), rest))
}

pub(super) fn concat(first: Arc<Re>, second: Arc<Re>) -> Arc<Re> {
    match (&*first, &*second) {
        (Re::Nothing, _) | (_, Re::Nothing) => nothing(),
        (Re::Empty, _) => second,
        (_, Re::Empty) => first,
        (Re::Concat(a, b), _) => concat(a.clone(), concat(b.clone(), second)),
        _ => Arc::new(Re::Concat(first, second)),
    }
}

pub(super) fn concat_all(parts: impl IntoIterator<Item = Arc<Re>>) -> Arc<Re> {
    let parts: Vec<Arc<Re>> = parts.into_iter().collect();
    parts
        .into_iter()
        .rev()
        .fold(empty(), |rest, part| concat(part, rest))
}

pub(super) fn union(parts: Vec<Arc<Re>>) -> Arc<Re> {
    let mut flat = Vec::with_capacity(parts.len());
    for part in parts {
        match &*part {
            Re::Nothing => {}
            Re::Union(inner) => flat.extend(inner.iter().cloned()),
            _ => flat.push(part),
        }
    }
    flat.sort();
    flat.dedup();
    match flat.len() {
        0 => nothing(),
        1 => flat.pop().unwrap_or_else(nothing),
        _ => Arc::new(Re::Union(flat)),
    }
}

pub(super) fn intersection(parts: Vec<Arc<Re>>) -> Arc<Re> {
    let mut flat = Vec::with_capacity(parts.len());
    for part in parts {
        match &*part {
            Re::Nothing => return nothing(),
            Re::Intersection(inner) => flat.extend(inner.iter().cloned()),
            _ => flat.push(part),
        }
    }
    flat.sort();
    flat.dedup();
    match flat.len() {
        0 => nothing(),
        1 => flat.pop().unwrap_or_else(nothing),
        _ => Arc::new(Re::Intersection(flat)),
    }
}

pub(super) fn repeat(inner: Arc<Re>, min: u32, max: Option<u32>) -> Arc<Re> {
    match (&*inner, min, max) {
        (_, _, Some(0)) | (Re::Empty, _, _) => empty(),
        (Re::Nothing, 0, _) => empty(),
        (Re::Nothing, _, _) => nothing(),
        (_, 1, Some(1)) => inner,
        _ => Arc::new(Re::Repeat(inner, min, max)),
    }
}

/// Whether `re` matches the empty string.
pub(super) fn nullable(re: &Re) -> bool {
    match re {
        Re::Nothing | Re::Chars(_) => false,
        Re::Empty => true,
        Re::Concat(a, b) => nullable(a) && nullable(b),
        Re::Union(parts) => parts.iter().any(|part| nullable(part)),
        Re::Intersection(parts) => parts.iter().all(|part| nullable(part)),
        Re::Repeat(inner, min, _) => *min == 0 || nullable(inner),
    }
}

/// What remains of `re` to match after the character `c`.
pub(super) fn derivative(re: &Arc<Re>, c: char) -> Arc<Re> {
    match &**re {
        Re::Nothing | Re::Empty => nothing(),
        Re::Chars(set) => {
            if set.contains(c) {
                empty()
            } else {
                nothing()
            }
        }
        Re::Concat(a, b) => {
            let first = concat(derivative(a, c), b.clone());
            if nullable(a) {
                union(vec![first, derivative(b, c)])
            } else {
                first
            }
        }
        Re::Union(parts) => union(parts.iter().map(|part| derivative(part, c)).collect()),
        Re::Intersection(parts) => {
            intersection(parts.iter().map(|part| derivative(part, c)).collect())
        }
        Re::Repeat(inner, min, max) => concat(
            derivative(inner, c),
            repeat(inner.clone(), min.saturating_sub(1), max.map(|max| max - 1)),
        ),
    }
}

/// The length in characters of every string `re` matches, when they all have one length.
/// Unverified: the page does not say whether `#` is "fixed length"; it is taken not to be.
pub(super) fn fixed_length(re: &Re) -> Option<usize> {
    match re {
        Re::Nothing => None,
        Re::Empty => Some(0),
        Re::Chars(_) => Some(1),
        Re::Concat(a, b) => fixed_length(a)?.checked_add(fixed_length(b)?),
        Re::Union(parts) => {
            let first = fixed_length(parts.first()?)?;
            parts
                .iter()
                .all(|part| fixed_length(part) == Some(first))
                .then_some(first)
        }
        // Every string of an intersection is a string of each part.
        Re::Intersection(parts) => parts.iter().find_map(|part| fixed_length(part)),
        Re::Repeat(inner, min, max) => {
            let length = fixed_length(inner)?;
            if length == 0 {
                Some(0)
            } else if Some(*min) == *max {
                length.checked_mul(*min as usize)
            } else {
                None
            }
        }
    }
}

/// The factors of a concatenation, in order.
pub(super) fn factors(re: &Arc<Re>) -> Vec<Arc<Re>> {
    let mut out = Vec::new();
    let mut rest = re.clone();
    loop {
        let next = match &*rest {
            Re::Concat(a, b) => {
                out.push(a.clone());
                b.clone()
            }
            Re::Empty => break,
            _ => {
                out.push(rest.clone());
                break;
            }
        };
        rest = next;
    }
    out
}

/// `re` cut into its longest fixed-length start (and that start's length) and the rest.
/// A repetition `x{n,m}` of a fixed-length `x` gives its `n` first copies to the start, as
/// the page counts `_+` as `_` followed by `_*`.
pub(super) fn split_fixed_start(re: &Arc<Re>) -> (Arc<Re>, usize, Arc<Re>) {
    let all = factors(re);
    let mut start = Vec::new();
    let mut length: usize = 0;
    let mut rest = Vec::new();
    let mut index = 0;
    while let Some(factor) = all.get(index) {
        if let Some(factor_length) = fixed_length(factor)
            && let Some(sum) = length.checked_add(factor_length)
        {
            start.push(factor.clone());
            length = sum;
            index += 1;
            continue;
        }
        if let Re::Repeat(inner, min, max) = &**factor
            && let Some(inner_length) = fixed_length(inner)
            && *min > 0
            && let Some(min_length) = inner_length.checked_mul(*min as usize)
        {
            start.push(repeat(inner.clone(), *min, Some(*min)));
            length += min_length;
            rest.push(repeat(inner.clone(), 0, max.map(|max| max - min)));
            index += 1;
        }
        break;
    }
    rest.extend(all.iter().skip(index).cloned());
    (concat_all(start), length, concat_all(rest))
}
