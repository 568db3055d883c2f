//! The JSON schema of an [`AnalysisPlan`](super::plan::AnalysisPlan), as a model is asked to
//! answer it (`response_format` with `strict: true`): every property required, optional ones
//! nullable, no other properties. It mirrors the serde form of the plan types exactly; a test
//! checks every plan the planner writes against it.

use serde_json::{json, Value};

fn object(properties: Value) -> Value {
    let required: Vec<String> = properties
        .as_object()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default();
    json!({"type": "object", "properties": properties, "required": required, "additionalProperties": false})
}

fn nullable(schema: Value) -> Value {
    json!({"anyOf": [schema, {"type": "null"}]})
}

fn words(list: &[&str]) -> Value {
    json!({"type": "string", "enum": list})
}

/// The schema of a plan.
pub fn plan_schema() -> Value {
    let id = json!({"type": "integer", "minimum": 0});
    let col = object(json!({"table": id, "column": id}));
    let agg = words(&["sum", "avg", "min", "max", "median", "count_distinct"]);
    let grain = words(&["day", "week", "month", "quarter", "year"]);
    let op = words(&[
        "eq",
        "ne",
        "gt",
        "ge",
        "lt",
        "le",
        "contains",
        "starts_with",
        "ends_with",
        "is_null",
        "not_null",
    ]);
    let measure = json!({"anyOf": [
        object(json!({"metric": id})),
        object(json!({"count": id})),
        object(json!({"aggregate": object(json!({"agg": agg, "column": col}))})),
    ]});
    let value = json!({"anyOf": [
        object(json!({"text": {"type": "string"}})),
        object(json!({"number": {"type": "number"}})),
        object(json!({"bool": {"type": "boolean"}})),
    ]});
    let range = object(json!({
        "clock": nullable(object(json!({"unit": grain, "offset": {"type": "integer"}}))),
        "column": nullable(col.clone()),
        "start": {"type": "string", "description": "first day, YYYY-MM-DD (empty with clock)"},
        "end": {"type": "string", "description": "first day after, YYYY-MM-DD (empty with clock)"},
        "words": {"type": "string"},
    }));
    let ids = json!({"type": "array", "items": id});
    object(json!({
        "intent": words(&["aggregate", "share", "growth", "list", "difference", "ratio"]),
        "measures": {"type": "array", "items": measure, "minItems": 1, "maxItems": 2},
        "dimensions": {"type": "array", "items": object(json!({"column": col, "grain": nullable(grain.clone())}))},
        "filters": {"type": "array", "items": object(json!({"column": col, "op": op, "values": {"type": "array", "items": value}}))},
        "time": nullable(range.clone()),
        "having": nullable(object(json!({"op": op, "value": {"type": "number"}, "count_groups": {"type": "boolean"}}))),
        "order": nullable(object(json!({"descending": {"type": "boolean"}, "column": nullable(col.clone())}))),
        "limit": nullable(json!({"type": "integer", "minimum": 1})),
        "previous": nullable(range),
        "without": nullable(id.clone()),
        "part": ids,
        "via": ids,
        "denominator_part": ids,
        "percent": {"type": "boolean"},
        "confidence": {"type": "number"},
    }))
}

/// The schema of a model's answer: a plan, or one SELECT where a plan cannot say it.
pub fn answer_schema() -> Value {
    object(json!({
        "plan": nullable(plan_schema()),
        "sql": nullable(json!({"type": "string", "description": "one PostgreSQL SELECT, when no plan can express the question"})),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ask::tests_count_schemas::{courses, flights, p};

    /// Whether `v` fits `schema` (the subset of JSON schema `plan_schema` uses).
    fn fits(v: &Value, schema: &Value) -> Result<(), String> {
        if let Some(any) = schema.get("anyOf").and_then(Value::as_array) {
            return any
                .iter()
                .any(|s| fits(v, s).is_ok())
                .then_some(())
                .ok_or_else(|| format!("{v} fits no choice of {schema}"));
        }
        let kind = schema["type"].as_str().unwrap_or("");
        let ok = match kind {
            "object" => {
                let o = v.as_object().ok_or(format!("{v} is not an object"))?;
                let props = schema["properties"].as_object().unwrap();
                for k in o.keys() {
                    if !props.contains_key(k) {
                        return Err(format!("{k} is not in the schema"));
                    }
                }
                for (k, s) in props {
                    fits(o.get(k).unwrap_or(&Value::Null), s).map_err(|e| format!("{k}: {e}"))?;
                }
                true
            }
            "array" => {
                let a = v.as_array().ok_or(format!("{v} is not an array"))?;
                for x in a {
                    fits(x, &schema["items"])?;
                }
                true
            }
            "string" => v.as_str().is_some_and(|s| {
                schema
                    .get("enum")
                    .and_then(Value::as_array)
                    .is_none_or(|e| e.iter().any(|x| x == s))
            }),
            "integer" => v.as_i64().is_some(),
            "number" => v.is_number(),
            "boolean" => v.is_boolean(),
            "null" => v.is_null(),
            _ => false,
        };
        ok.then_some(())
            .ok_or_else(|| format!("{v} is not {schema}"))
    }

    #[test]
    fn planner_plans_fit_the_schema_in_strict_form() {
        let schema = plan_schema();
        let cases = [
            (courses(), "How many students have declared a major in each program?"),
            (courses(), "What is the ratio of the total number of students enrolled in courses with exams to the total number of students enrolled in courses without exams?"),
            (flights(), "What is the proportion of flights with stops out of all flights for each airline code?"),
            (flights(), "How many flights require a round-trip to purchase the fare?"),
        ];
        for (s, q) in cases {
            let mut v = serde_json::to_value(p(&s, q)).unwrap();
            // Strict form: every property present (null or empty where the plan has none).
            if let Some(o) = v.as_object_mut() {
                for k in ["via", "denominator_part", "part"] {
                    o.entry(k).or_insert(json!([]));
                }
                o.entry("percent").or_insert(json!(false));
            }
            fits(&v, &schema).unwrap_or_else(|e| panic!("{q}: {e}"));
            // And what fits deserializes back to a plan.
            let back: crate::ask::plan::AnalysisPlan = serde_json::from_value(v.clone()).unwrap();
            assert!(!back.measures.is_empty());
            // What does not fit is told apart: an unknown property, an unknown intent.
            let mut extra = v.clone();
            extra["sql"] = json!("DROP TABLE x");
            assert!(fits(&extra, &schema).is_err());
            let mut wrong = v;
            wrong["intent"] = json!("delete");
            assert!(fits(&wrong, &schema).is_err());
        }
    }
}
