//! Reading one variable: the rules every part of the configuration shares.

/// A setting that cannot be used: the variable's name and what is wrong with it.
pub(super) type Problem = (&'static str, String);

/// `name` as a whole number within `min..=max`, or `default` when unset.
pub(super) fn whole(
    get: &dyn Fn(&str) -> Option<String>,
    name: &'static str,
    default: u32,
    min: u32,
    max: u32,
) -> Result<u32, Problem> {
    match get(name) {
        None => Ok(default),
        Some(v) => match v.parse::<u32>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err((
                name,
                format!("expected a whole number from {min} to {max}, got {v:?}"),
            )),
        },
    }
}
