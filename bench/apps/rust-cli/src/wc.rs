pub struct Counts {
    pub lines: usize,
    pub words: usize,
    pub bytes: usize,
}

pub fn count(s: &str) -> Counts {
    Counts { lines: s.lines().count(), words: s.split_whitespace().count(), bytes: s.len() }
}

#[cfg(test)]
mod tests {
    #[test]
    fn counts() {
        let c = super::count("a b\nc\n");
        assert_eq!((c.lines, c.words, c.bytes), (2, 3, 6));
    }
}
