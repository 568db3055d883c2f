//! Which columns a draft marks `pii = true`: only where the data looks personal, judged from
//! the column's name, its table and, when profiled, its values.
//!
//! - Identity documents and secrets are personal wherever they are: `ssn`, `passport`,
//!   `birth_date`/`dob`, `tax_id`, `iban`, `card_number`, `password`, `ip_address`, …
//! - An email column is personal wherever it is, unless its values were seen and none holds
//!   an `@` (then it is something else, e.g. a channel).
//! - Phones, people's names (`first_name`, `last_name`, `full_name`, `surname`, …) and address
//!   lines (`address`, `street`, `zip`, `postal`, …) are personal in a table of people
//!   (`customers`, `users`, `patients`, `employees`, `students`, `members`, `contacts`, …) or
//!   when the column itself names one (`customer_phone`). `street_name` in a table of streets,
//!   `class_address` of a course and an airline's `phone` are not. Authors and instructors are
//!   not tables of people here: their names are published.
//! - A phone whose values were seen and hold no digit is not one; a boolean is never personal
//!   (`email_verified`).

use super::super::model::{Column, Table, ValueKind};

/// Name words of personal data in any table.
const ALWAYS: &[&str] = &[
    "ssn",
    "social_security",
    "passport",
    "birth",
    "dob",
    "tax_id",
    "national_id",
    "iban",
    "card_number",
    "credit_card",
    "password",
    "ip_address",
];

/// Name words of email addresses.
const EMAIL: &[&str] = &["email", "e_mail"];

/// Name words of phone numbers.
const PHONE: &[&str] = &["phone", "mobile", "fax"];

/// Name words of people's names and addresses: personal in a table of people.
const CONTACT: &[&str] = &[
    "first_name",
    "firstname",
    "last_name",
    "lastname",
    "middle_name",
    "maiden_name",
    "full_name",
    "fullname",
    "surname",
    "given_name",
    "family_name",
    "address",
    "addr",
    "street",
    "zip",
    "zipcode",
    "postal",
    "postcode",
];

/// Words of tables (and column prefixes) whose rows are people.
const PEOPLE: &[&str] = &[
    "customer",
    "client",
    "user",
    "person",
    "people",
    "patient",
    "employee",
    "staff",
    "student",
    "member",
    "contact",
    "subscriber",
];

/// Whether `name` has `word`: a whole `_`-separated part (or run of parts, for `first_name`),
/// or, for words of five letters or more, anywhere (`sbcustemail`); a shorter word also at the
/// end of a part (`custdob`).
fn has_word(name: &str, word: &str) -> bool {
    let parts: Vec<&str> = name.split('_').collect();
    let n = word.split('_').count();
    if parts.windows(n).any(|w| w.join("_") == word) {
        return true;
    }
    if word.len() >= 5 {
        return name.contains(word);
    }
    !word.contains('_') && parts.iter().any(|p| p.ends_with(word))
}

fn any_word(name: &str, words: &[&str]) -> bool {
    words.iter().any(|w| has_word(name, w))
}

/// Name words that display-column inference stays clear of, whatever the table.
const NAME_ONLY: &[&str] = &[
    "email",
    "e_mail",
    "phone",
    "mobile",
    "ssn",
    "social_security",
    "passport",
    "address",
    "street",
    "birth",
    "dob",
    "iban",
    "card_number",
    "credit_card",
    "tax_id",
    "ip_address",
    "password",
];

/// Whether a column name alone looks like personal data: the broad, name-only test that
/// display-column inference uses to stay clear of anything that might be personal. Drafts
/// use the narrower [`personal`].
pub fn looks_personal(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    NAME_ONLY.iter().any(|w| n.contains(w))
}

/// Whether the rows of `t` are people (`customers`, `app_users`, `sbcustomer`, …).
pub fn people_table(t: &Table) -> bool {
    let n = t.name.to_ascii_lowercase();
    PEOPLE.iter().any(|w| n.contains(w))
}

/// The values seen in `c`, when it was profiled and they were all kept.
fn seen(c: &Column) -> Option<&[String]> {
    c.profile
        .as_ref()
        .and_then(|p| p.values.as_deref())
        .filter(|v| !v.is_empty())
}

/// Whether column `c` of table `t` holds personal data (see the module's rule).
pub fn personal(t: &Table, c: &Column) -> bool {
    if c.kind == ValueKind::Boolean {
        return false;
    }
    let n = c.name.to_ascii_lowercase();
    if any_word(&n, ALWAYS) {
        return true;
    }
    if any_word(&n, EMAIL) {
        return seen(c).is_none_or(|v| v.iter().any(|s| s.contains('@')));
    }
    let of_people = people_table(t) || PEOPLE.iter().any(|w| n.contains(w));
    if !of_people {
        return false;
    }
    if any_word(&n, PHONE) {
        return seen(c).is_none_or(|v| v.iter().any(|s| s.chars().any(|ch| ch.is_ascii_digit())));
    }
    any_word(&n, CONTACT)
}
