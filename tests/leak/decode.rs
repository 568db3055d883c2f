//! Binary result values (extended protocol) rendered as text, close to PostgreSQL's text output.

use tokio_postgres::types::{FromSql, Kind, Type};

/// Any binary result value rendered as text, close to PostgreSQL's text output for the types
/// a leak could hide in (numbers, text, bytea as its bytes, arrays, records).
pub struct AnyText(pub Option<String>);

impl<'a> FromSql<'a> for AnyText {
    fn from_sql(
        ty: &Type,
        raw: &'a [u8],
    ) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(AnyText(Some(decode_binary(ty, raw))))
    }
    fn from_sql_null(_ty: &Type) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(AnyText(None))
    }
    fn accepts(_ty: &Type) -> bool {
        true
    }
}

fn be_i16(b: &[u8]) -> i16 {
    i16::from_be_bytes([b[0], b[1]])
}
fn be_i32(b: &[u8]) -> i32 {
    i32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

/// Binary NUMERIC to its text form (with the display scale).
pub fn numeric_text(raw: &[u8]) -> String {
    if raw.len() < 8 {
        return String::from_utf8_lossy(raw).into_owned();
    }
    let ndigits = be_i16(&raw[0..]) as usize;
    let weight = be_i16(&raw[2..]) as i32;
    let sign = u16::from_be_bytes([raw[4], raw[5]]);
    let dscale = be_i16(&raw[6..]) as usize;
    match sign {
        0xC000 => return "NaN".into(),
        0xD000 => return "Infinity".into(),
        0xF000 => return "-Infinity".into(),
        _ => {}
    }
    let digits: Vec<i32> = (0..ndigits)
        .map(|i| be_i16(&raw[8 + 2 * i..]) as i32)
        .collect();
    let digit = |i: i32| -> i32 {
        if i >= 0 && (i as usize) < digits.len() {
            digits[i as usize]
        } else {
            0
        }
    };
    let mut s = String::new();
    if sign == 0x4000 {
        s.push('-');
    }
    if weight < 0 {
        s.push('0');
    } else {
        for i in 0..=weight {
            let d = digit(i);
            if i == 0 {
                s.push_str(&d.to_string());
            } else {
                s.push_str(&format!("{d:04}"));
            }
        }
    }
    if dscale > 0 {
        s.push('.');
        let mut frac = String::new();
        let mut i = weight + 1;
        while frac.len() < dscale {
            frac.push_str(&format!("{:04}", digit(i)));
            i += 1;
        }
        frac.truncate(dscale);
        s.push_str(&frac);
    }
    s
}

pub fn decode_binary(ty: &Type, raw: &[u8]) -> String {
    match *ty {
        Type::BOOL => return if raw.first() == Some(&1) { "t" } else { "f" }.into(),
        Type::INT2 if raw.len() == 2 => return be_i16(raw).to_string(),
        Type::INT4 if raw.len() == 4 => return be_i32(raw).to_string(),
        Type::OID if raw.len() == 4 => {
            return u32::from_be_bytes(raw.try_into().unwrap()).to_string()
        }
        Type::INT8 if raw.len() == 8 => {
            return i64::from_be_bytes(raw.try_into().unwrap()).to_string()
        }
        Type::FLOAT4 if raw.len() == 4 => {
            return f32::from_be_bytes(raw.try_into().unwrap()).to_string()
        }
        Type::FLOAT8 if raw.len() == 8 => {
            return f64::from_be_bytes(raw.try_into().unwrap()).to_string()
        }
        Type::NUMERIC => return numeric_text(raw),
        Type::JSONB if !raw.is_empty() => return String::from_utf8_lossy(&raw[1..]).into_owned(),
        Type::RECORD => return decode_record(raw, &[]),
        _ => {}
    }
    match ty.kind() {
        Kind::Array(elem) => decode_array(elem, raw),
        Kind::Composite(fields) => {
            let types: Vec<Type> = fields.iter().map(|f| f.type_().clone()).collect();
            decode_record(raw, &types)
        }
        Kind::Domain(inner) => decode_binary(inner, raw),
        // text, varchar, name, xml, json, bytea (its bytes), and anything else: the bytes.
        _ => String::from_utf8_lossy(raw).into_owned(),
    }
}

fn decode_record(raw: &[u8], types: &[Type]) -> String {
    let mut parts = Vec::new();
    if raw.len() < 4 {
        return String::from_utf8_lossy(raw).into_owned();
    }
    let n = be_i32(raw).max(0) as usize;
    let mut pos = 4;
    for i in 0..n {
        if pos + 8 > raw.len() {
            break;
        }
        let oid = u32::from_be_bytes(raw[pos..pos + 4].try_into().unwrap());
        let len = be_i32(&raw[pos + 4..]);
        pos += 8;
        if len < 0 {
            parts.push(String::new());
            continue;
        }
        let end = (pos + len as usize).min(raw.len());
        let t = types
            .get(i)
            .cloned()
            .or_else(|| Type::from_oid(oid))
            .unwrap_or(Type::BYTEA);
        parts.push(decode_binary(&t, &raw[pos..end]));
        pos = end;
    }
    format!("({})", parts.join(","))
}

fn decode_array(elem: &Type, raw: &[u8]) -> String {
    if raw.len() < 12 {
        return "{}".into();
    }
    let ndim = be_i32(raw).max(0) as usize;
    let mut pos = 12 + 8 * ndim;
    let mut parts = Vec::new();
    while pos + 4 <= raw.len() {
        let len = be_i32(&raw[pos..]);
        pos += 4;
        if len < 0 {
            parts.push("NULL".to_string());
            continue;
        }
        let end = (pos + len as usize).min(raw.len());
        parts.push(decode_binary(elem, &raw[pos..end]));
        pos = end;
    }
    format!("{{{}}}", parts.join(","))
}
