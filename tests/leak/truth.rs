//! Ground truth: what alice may see and the values she must never see, read from a direct
//! connection, and the scanning of text for those forbidden values.

use super::{direct, direct_rows, REGION};
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use std::collections::{HashMap, HashSet};

#[derive(Clone, Debug)]
pub struct Customer {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub phone: Option<String>,
}

/// What alice may see and the values she must never see, read from a direct connection.
pub struct Truth {
    /// store_ids of region 3.
    pub stores: HashSet<i64>,
    /// order_ids of orders in region-3 stores.
    pub orders: HashSet<i64>,
    pub total_stores: usize,
    pub total_orders: usize,
    pub total_employees: usize,
    pub customers: Vec<Customer>,
    /// employee_id -> salary text.
    pub salaries_by_employee: HashMap<i64, String>,
    /// Salary values as PostgreSQL prints them ("81400.00").
    pub salaries: HashSet<String>,
    /// Forbidden strings found anywhere by substring (emails, full phones, phone local parts,
    /// customer names); `kinds[i]` says which.
    pub ac: AhoCorasick,
    pub kinds: Vec<(&'static str, String)>,
    /// Variables for `${...}` in the .leak files.
    pub vars: HashMap<String, String>,
}

impl Truth {
    pub async fn load() -> Truth {
        let c = direct().await;
        let ids = |rows: Vec<Vec<Option<String>>>| -> HashSet<i64> {
            rows.into_iter()
                .map(|r| r[0].as_ref().unwrap().parse().unwrap())
                .collect()
        };
        let stores = ids(direct_rows(
            &c,
            &format!("SELECT store_id FROM retail.stores WHERE region_id = {REGION}"),
        )
        .await);
        let orders = ids(direct_rows(&c, &format!("SELECT order_id FROM retail.orders WHERE store_id IN (SELECT store_id FROM retail.stores WHERE region_id = {REGION})")).await);
        let count = |rows: Vec<Vec<Option<String>>>| -> usize {
            rows[0][0].as_ref().unwrap().parse().unwrap()
        };
        let total_stores = count(direct_rows(&c, "SELECT count(*) FROM retail.stores").await);
        let total_orders = count(direct_rows(&c, "SELECT count(*) FROM retail.orders").await);
        let total_employees = count(direct_rows(&c, "SELECT count(*) FROM retail.employees").await);
        let customers: Vec<Customer> = direct_rows(
            &c,
            "SELECT customer_id, name, email, phone FROM retail.customers ORDER BY customer_id",
        )
        .await
        .into_iter()
        .map(|r| Customer {
            id: r[0].as_ref().unwrap().parse().unwrap(),
            name: r[1].clone().unwrap(),
            email: r[2].clone().unwrap(),
            phone: r[3].clone(),
        })
        .collect();
        let salaries_by_employee: HashMap<i64, String> =
            direct_rows(&c, "SELECT employee_id, salary FROM retail.employees")
                .await
                .into_iter()
                .map(|r| {
                    (
                        r[0].as_ref().unwrap().parse().unwrap(),
                        r[1].clone().unwrap(),
                    )
                })
                .collect();
        let salaries: HashSet<String> = salaries_by_employee.values().cloned().collect();

        // Text alice may legitimately see; a customer name that occurs in it (as a whole word
        // sequence) cannot be told apart from allowed data and is not used as a marker.
        let allowed_text: Vec<String> = direct_rows(
            &c,
            "SELECT name FROM retail.employees UNION SELECT title FROM retail.employees \
             UNION SELECT name FROM retail.stores UNION SELECT city FROM retail.stores \
             UNION SELECT name FROM retail.products UNION SELECT brand FROM retail.products \
             UNION SELECT name FROM retail.categories UNION SELECT name FROM retail.regions \
             UNION SELECT city FROM retail.customers UNION SELECT segment FROM retail.customers \
             UNION SELECT loyalty_tier FROM retail.customers UNION SELECT reason FROM retail.returns",
        )
        .await
        .into_iter()
        .filter_map(|r| r[0].clone())
        .collect();
        let mut names: Vec<String> = customers
            .iter()
            .map(|c| c.name.clone())
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        names.sort();
        let name_ac = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .build(&names)
            .unwrap();
        let mut shadowed = HashSet::new();
        for t in &allowed_text {
            for m in name_ac.find_overlapping_iter(t.as_str()) {
                if word_bounded(t, m.start(), m.end()) {
                    shadowed.insert(m.pattern().as_usize());
                }
            }
        }
        let names: Vec<String> = names
            .into_iter()
            .enumerate()
            .filter(|(i, _)| !shadowed.contains(i))
            .map(|(_, n)| n)
            .collect();

        let mut kinds: Vec<(&'static str, String)> = Vec::new();
        let mut seen = HashSet::new();
        let mut push = |kind: &'static str, v: &str| {
            if v.len() >= 4 && seen.insert(v.to_ascii_lowercase()) {
                kinds.push((kind, v.to_string()));
            }
        };
        for cu in &customers {
            push("customers.email", &cu.email);
            if let Some(p) = &cu.phone {
                push("customers.phone", p);
                // "(212) 555-8383" -> "555-8383": more than the last 4 characters.
                if let Some((_, local)) = p.split_once(") ") {
                    push("customers.phone (local part)", local);
                }
            }
        }
        for n in &names {
            push("customers.name", n);
        }
        let ac = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(kinds.iter().map(|(_, v)| v.as_str()))
            .unwrap();

        let name_set: HashSet<&String> = names.iter().collect();
        let victim = customers
            .iter()
            .find(|c| name_set.contains(&c.name) && c.phone.is_some())
            .expect("a customer with a distinctive name")
            .clone();
        let other_store = (1..=total_stores as i64)
            .find(|s| !stores.contains(s))
            .unwrap();
        let allowed_store = *stores.iter().min().unwrap();
        let other_order = direct_rows(
            &c,
            &format!("SELECT min(order_id) FROM retail.orders WHERE store_id = {other_store}"),
        )
        .await[0][0]
            .clone()
            .unwrap();
        let allowed_order = *orders.iter().min().unwrap();
        let salary1 = salaries_by_employee[&1].clone();
        let mut vars = HashMap::new();
        for (k, v) in [
            ("email1", victim.email.clone()),
            ("phone1", victim.phone.clone().unwrap()),
            ("name1", victim.name.clone()),
            (
                "email1_prefix",
                victim
                    .email
                    .chars()
                    .take(victim.email.find('@').unwrap().min(8))
                    .collect(),
            ),
            ("customer1", victim.id.to_string()),
            ("salary1", salary1),
            ("other_store", other_store.to_string()),
            ("allowed_store", allowed_store.to_string()),
            ("other_order", other_order),
            ("allowed_order", allowed_order.to_string()),
            ("stores_count", stores.len().to_string()),
            ("orders_count", orders.len().to_string()),
            ("total_stores", total_stores.to_string()),
            ("total_orders", total_orders.to_string()),
            ("employees_count", total_employees.to_string()),
            ("region", REGION.to_string()),
        ] {
            vars.insert(k.to_string(), v);
        }
        Truth {
            stores,
            orders,
            total_stores,
            total_orders,
            total_employees,
            customers,
            salaries_by_employee,
            salaries,
            ac,
            kinds,
            vars,
        }
    }

    /// Replaces `${name}` with the variable's value.
    pub fn subst(&self, s: &str) -> String {
        let mut out = s.to_string();
        for (k, v) in &self.vars {
            out = out.replace(&format!("${{{k}}}"), v);
        }
        out
    }

    /// The first forbidden value found in `text`, described.
    pub fn leak_in(&self, text: &str, extra: Option<&Forbid>) -> Option<String> {
        let mut texts = vec![text.to_string()];
        // bytea in text form: look inside the bytes as well.
        if let Some(hex) = text.strip_prefix("\\x") {
            if hex.len() % 2 == 0 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                let bytes: Vec<u8> = (0..hex.len() / 2)
                    .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
                    .collect();
                texts.push(String::from_utf8_lossy(&bytes).into_owned());
            }
        }
        for t in &texts {
            for m in self.ac.find_overlapping_iter(t.as_str()) {
                let (kind, value) = &self.kinds[m.pattern().as_usize()];
                if *kind == "customers.name" && !word_bounded(t, m.start(), m.end()) {
                    continue;
                }
                return Some(format!("{kind} value {value:?}"));
            }
            for tok in t.split(|ch: char| !(ch.is_ascii_digit() || ch == '.')) {
                if tok.len() >= 4 && self.salaries.contains(tok) {
                    return Some(format!("employees.salary value {tok:?}"));
                }
            }
            if let Some(f) = extra {
                if let Some(m) = f.ac.find(t.as_str()) {
                    return Some(format!(
                        "value {:?} forbidden by `forbid:`",
                        f.values[m.pattern().as_usize()]
                    ));
                }
            }
        }
        None
    }

    /// The masked form of a phone: every character but the last four replaced by '*'.
    pub fn partial(raw: &str) -> String {
        let n = raw.chars().count();
        raw.chars()
            .enumerate()
            .map(|(i, ch)| if i + 4 < n { '*' } else { ch })
            .collect()
    }
}

fn word_bounded(t: &str, start: usize, end: usize) -> bool {
    let before = t[..start].chars().next_back();
    let after = t[end..].chars().next();
    !before.is_some_and(|c| c.is_alphanumeric()) && !after.is_some_and(|c| c.is_alphanumeric())
}

/// Extra forbidden values for one entry (`forbid:` queries run on the direct connection).
pub struct Forbid {
    pub values: Vec<String>,
    pub ac: AhoCorasick,
}

impl Forbid {
    pub async fn load(queries: &[String]) -> Option<Forbid> {
        if queries.is_empty() {
            return None;
        }
        let c = direct().await;
        let mut values = HashSet::new();
        for q in queries {
            for r in direct_rows(&c, q).await {
                for v in r.into_iter().flatten() {
                    if v.len() >= 4 {
                        values.insert(v);
                    }
                }
            }
        }
        let values: Vec<String> = values.into_iter().collect();
        let ac = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .build(&values)
            .unwrap();
        Some(Forbid { values, ac })
    }
}
