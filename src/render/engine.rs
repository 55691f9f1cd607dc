//! The handlebars registry every template renders through. Injection safety lives here: strict mode (an unknown
//! variable is an error, never an empty string), the escape function JSON-escapes every `{{value}}` so a value
//! can only ever land inside a JSON string, and `{{json value}}` writes any value as a complete JSON literal.
//! Triple-stash `{{{raw}}}` would bypass escaping, so templates containing it are refused.

use handlebars::{
    Context, Handlebars, Helper, HelperResult, Output, RenderContext, RenderErrorReason,
};

/// Escapes text for the inside of a JSON string literal.
pub(crate) fn json_escape(text: &str) -> String {
    let quoted = serde_json::Value::String(text.to_string()).to_string();
    quoted[1..quoted.len() - 1].to_string()
}

fn json_helper(
    h: &Helper,
    _: &Handlebars,
    _: &Context,
    _: &mut RenderContext,
    out: &mut dyn Output,
) -> HelperResult {
    let param = h
        .param(0)
        .ok_or(RenderErrorReason::ParamNotFoundForIndex("json", 0))?;
    if param.is_value_missing() {
        return Err(RenderErrorReason::MissingVariable(param.relative_path().cloned()).into());
    }
    out.write(&param.value().to_string())?;
    Ok(())
}

/// A strict registry with the JSON escape and the `json` helper.
pub(crate) fn registry() -> Handlebars<'static> {
    let mut hb = Handlebars::new();
    hb.set_strict_mode(true);
    hb.register_escape_fn(json_escape);
    hb.register_helper("json", Box::new(json_helper));
    hb
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_json_escaped_and_json_helper_writes_literals() {
        let mut hb = registry();
        hb.register_template_string("t", r#"{"a": "{{a}}", "b": {{json b}}}"#)
            .expect("template");
        let out = hb
            .render(
                "t",
                &serde_json::json!({"a": "q\"uote\n{{x}}", "b": ["x", 1]}),
            )
            .expect("render");
        let parsed: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
        assert_eq!(parsed["a"], "q\"uote\n{{x}}");
        assert_eq!(parsed["b"], serde_json::json!(["x", 1]));
    }

    #[test]
    fn strict_mode_rejects_unknown_variables() {
        let mut hb = registry();
        hb.register_template_string("t", r#"{"a": "{{nope}}"}"#)
            .expect("template");
        assert!(hb.render("t", &serde_json::json!({})).is_err());
    }
}
