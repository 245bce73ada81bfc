//! Request parameters as names with their values, read from a query string or a
//! url-encoded body, with array keys normalised: `type[]=a`, `pid[0]=1` and `pid=1`
//! all become `type` / `pid`. The panels' forms and the API read them alike.

use std::collections::HashMap;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Params(pub HashMap<String, Vec<String>>);

impl Params {
    pub fn from_query(data: &str) -> Params {
        let mut p = Params::default();
        p.add_urlencoded(data.as_bytes());
        p
    }

    pub fn add(&mut self, key: &str, value: String) {
        let name = match key.find('[') {
            Some(i) if key.ends_with(']') => &key[..i],
            _ => key,
        };
        self.0.entry(name.to_string()).or_default().push(value);
    }

    pub fn add_urlencoded(&mut self, data: &[u8]) {
        for (k, v) in url::form_urlencoded::parse(data) {
            self.add(&k, v.into_owned());
        }
    }

    /// The first non-empty value, trimmed.
    pub fn one(&self, name: &str) -> Option<&str> {
        self.0.get(name).and_then(|v| v.iter().map(|s| s.trim()).find(|s| !s.is_empty()))
    }

    /// Every non-empty value, trimmed.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0.get(name).map(|v| v.iter().map(|s| s.trim()).filter(|s| !s.is_empty()).collect()).unwrap_or_default()
    }

    /// The first value exactly as sent (message text keeps its spaces).
    pub fn raw(&self, name: &str) -> Option<&str> {
        self.0.get(name).and_then(|v| v.first()).map(String::as_str)
    }

    pub fn has(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    /// The page number a paged list asks for: `Ok(1)` when none is given, `Err`
    /// (to be said next to the list, which then shows page 1) for anything but a
    /// whole number from 1 up to a million.
    pub fn page(&self) -> Result<u32, String> {
        match self.one("page").map(str::parse::<u32>) {
            None => Ok(1),
            Some(Ok(n)) if (1..=1_000_000).contains(&n) => Ok(n),
            Some(_) => Err("Page must be a whole number from 1 to 1,000,000.".into()),
        }
    }
}
