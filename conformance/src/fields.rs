//! A packet's reading as Wireshark display-filter fields: the keys of `wirecheck decode
//! --format json` and of the differential test against tshark.

use serde_json::{Map, Number, Value};

/// A field's value, typed for JSON.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    /// Integers (ports, lengths, flags, checksums).
    Int(u64),
    /// Flags.
    Bool(bool),
    /// Times.
    Float(f64),
    /// Addresses and other text.
    Text(String),
}

impl FieldValue {
    fn to_json(&self) -> Value {
        match self {
            FieldValue::Int(i) => Value::Number((*i).into()),
            FieldValue::Bool(b) => Value::Bool(*b),
            FieldValue::Float(f) => Number::from_f64(*f).map_or(Value::Null, Value::Number),
            FieldValue::Text(t) => Value::String(t.clone()),
        }
    }
}

/// Fields in the order they were added; the first value for a name wins (Wireshark's
/// "first occurrence": the outermost header).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fields {
    entries: Vec<(&'static str, FieldValue)>,
}

impl Fields {
    /// Adds a field unless one of that name is already there.
    pub fn push(&mut self, name: &'static str, value: FieldValue) {
        if self.get(name).is_none() {
            self.entries.push((name, value));
        }
    }

    /// Adds an integer field.
    pub fn int(&mut self, name: &'static str, value: impl Into<u64>) {
        self.push(name, FieldValue::Int(value.into()));
    }

    /// Adds a boolean field.
    pub fn flag(&mut self, name: &'static str, value: bool) {
        self.push(name, FieldValue::Bool(value));
    }

    /// Adds a text field.
    pub fn text(&mut self, name: &'static str, value: impl ToString) {
        self.push(name, FieldValue::Text(value.to_string()));
    }

    /// The value of a field.
    pub fn get(&self, name: &str) -> Option<&FieldValue> {
        self.entries
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v)
    }

    /// All fields in order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &FieldValue)> {
        self.entries.iter().map(|(n, v)| (*n, v))
    }

    /// The fields as one JSON object.
    pub fn to_json(&self) -> Value {
        let mut map = Map::new();
        for (name, value) in &self.entries {
            map.insert((*name).to_string(), value.to_json());
        }
        Value::Object(map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_occurrence_wins_and_json_is_typed() {
        let mut f = Fields::default();
        f.int("ip.ttl", 64u8);
        f.int("ip.ttl", 1u8);
        f.flag("ip.flags.df", true);
        f.text("ip.src", "10.0.0.1");
        assert_eq!(f.get("ip.ttl"), Some(&FieldValue::Int(64)));
        assert_eq!(
            f.to_json().to_string(),
            r#"{"ip.ttl":64,"ip.flags.df":true,"ip.src":"10.0.0.1"}"#
        );
    }
}
