//! Entrypoints: the names that field annotations give to the branches of
//! a parameter's `or` tree (Octez `Script_ir_translator.find_entrypoint`).
//! Calling entrypoint `e` with `v` runs the script with `v` wrapped in the
//! `Left`/`Right`s that lead to `e`.

use std::collections::BTreeMap;

use soru_core::micheline::Micheline;

use crate::error::ScriptError;
use crate::ty::Type;
use crate::value::Value;

/// The longest entrypoint name (Octez: 31 bytes).
pub const MAX_ENTRYPOINT_LENGTH: usize = 31;

/// The entrypoints of a parameter type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entrypoints {
    root: Type,
    /// Name → (path from the root, `true` for `Right`; type).
    named: BTreeMap<String, (Vec<bool>, Type)>,
}

fn field_annotation(expr: &Micheline) -> Result<Option<String>, ScriptError> {
    let Micheline::Prim { annots, .. } = expr else {
        return Ok(None);
    };
    let mut fields = annots.iter().filter_map(|a| a.strip_prefix('%'));
    let first = fields.next();
    if fields.next().is_some() {
        return Err(ScriptError::BadEntrypoint(format!("two field annotations on {expr}")));
    }
    match first {
        None | Some("") => Ok(None),
        Some(name) if name.len() > MAX_ENTRYPOINT_LENGTH => Err(ScriptError::BadEntrypoint(format!(
            "`{name}` is longer than {MAX_ENTRYPOINT_LENGTH} bytes"
        ))),
        Some(name) => Ok(Some(name.to_string())),
    }
}

impl Entrypoints {
    /// Reads the entrypoints of `parameter` (a type with annotations).
    pub fn parse(parameter: &Micheline) -> Result<Self, ScriptError> {
        let root = Type::parse(parameter)?;
        let mut named = BTreeMap::new();
        if let Some(name) = field_annotation(parameter)? {
            named.insert(name, (Vec::new(), root.clone()));
        }
        collect(parameter, &mut Vec::new(), &mut named)?;
        Ok(Self { root, named })
    }

    /// The whole parameter type.
    pub fn root(&self) -> &Type {
        &self.root
    }

    /// The path and type of an entrypoint; `""` and `"default"` are the
    /// `%default` branch when there is one, else the root.
    pub fn find(&self, name: &str) -> Option<(&[bool], &Type)> {
        let name = if name.is_empty() { "default" } else { name };
        match self.named.get(name) {
            Some((path, ty)) => Some((path, ty)),
            None if name == "default" => Some((&[], &self.root)),
            None => None,
        }
    }

    /// The annotated entrypoints by name, with their types, as Octez's
    /// `entrypoints` RPC lists them (an unannotated root is not listed).
    pub fn named(&self) -> impl Iterator<Item = (&str, &Type)> {
        self.named.iter().map(|(name, (_, ty))| (name.as_str(), ty))
    }

    /// `value` wrapped into the whole parameter along `path`.
    pub fn wrap(path: &[bool], value: Value) -> Value {
        path.iter().rev().fold(value, |inner, right| {
            if *right {
                Value::Right(Box::new(inner))
            } else {
                Value::Left(Box::new(inner))
            }
        })
    }
}

fn collect(
    expr: &Micheline,
    path: &mut Vec<bool>,
    named: &mut BTreeMap<String, (Vec<bool>, Type)>,
) -> Result<(), ScriptError> {
    let Micheline::Prim { prim, args, .. } = expr else {
        return Ok(());
    };
    if prim.name() != "or" || args.len() != 2 {
        return Ok(());
    }
    for (right, branch) in [(false, &args[0]), (true, &args[1])] {
        path.push(right);
        if let Some(name) = field_annotation(branch)? {
            if named
                .insert(name.clone(), (path.clone(), Type::parse(branch)?))
                .is_some()
            {
                return Err(ScriptError::BadEntrypoint(format!("`{name}` names two branches")));
            }
        }
        collect(branch, path, named)?;
        path.pop();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_paths_and_default() {
        let param: Micheline = "or (nat %deposit) (or (unit %withdraw) (string %default))"
            .parse()
            .unwrap();
        let eps = Entrypoints::parse(&param).unwrap();
        assert_eq!(eps.find("deposit").unwrap(), (&[false][..], &Type::Nat));
        assert_eq!(eps.find("withdraw").unwrap(), (&[true, false][..], &Type::Unit));
        assert_eq!(eps.find("").unwrap().1, &Type::String);
        assert!(eps.find("other").is_none());
        assert_eq!(
            Entrypoints::wrap(&[true, false], Value::Unit),
            Value::Right(Box::new(Value::Left(Box::new(Value::Unit))))
        );
        let plain = Entrypoints::parse(&"or nat unit".parse().unwrap()).unwrap();
        assert_eq!(plain.find("default").unwrap().1, plain.root());
        assert_eq!(plain.named().count(), 0);
        assert!(Entrypoints::parse(&"or (nat %a) (unit %a)".parse().unwrap()).is_err());
    }
}
