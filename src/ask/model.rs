//! The language model client: one chat completion from any OpenAI-compatible endpoint
//! (OpenAI, Azure OpenAI, vLLM, Ollama, llama.cpp server) through `async-openai`, with the
//! answer's JSON schema as `response_format` where the endpoint takes it. Errors name the
//! endpoint and never the key: QA004 when the endpoint cannot be reached, answers with an
//! error or is too slow; QA003 when what it answers is not usable.

use async_openai::config::OpenAIConfig;
use async_openai::types::chat::{
    ChatCompletionRequestAssistantMessage, ChatCompletionRequestMessage,
    ChatCompletionRequestSystemMessage, ChatCompletionRequestUserMessage,
    CreateChatCompletionRequestArgs, ResponseFormat, ResponseFormatJsonSchema,
};
use async_openai::Client;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Where and how to ask (from `llm.*` in the configuration). Its `Debug` never shows the key.
#[derive(Clone)]
pub struct ModelSettings {
    /// Base URL of the API, e.g. `http://127.0.0.1:11434/v1`.
    pub url: String,
    /// Model name.
    pub model: String,
    /// Bearer key; empty = none.
    pub api_key: String,
    /// Longest wait for one answer.
    pub timeout: Duration,
}

impl std::fmt::Debug for ModelSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelSettings")
            .field("url", &self.url)
            .field("model", &self.model)
            .field(
                "api_key",
                &if self.api_key.is_empty() { "" } else { "<set>" },
            )
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl ModelSettings {
    /// From the configuration: `None` when no model is configured or `llm.mode` is `off`; the
    /// key from `llm.api_key_file` when that is set.
    pub fn from_config(c: &crate::config::LlmConfig) -> Result<Option<ModelSettings>, String> {
        if c.url.trim().is_empty() || c.mode == "off" {
            return Ok(None);
        }
        let api_key = match &c.api_key_file {
            Some(f) => std::fs::read_to_string(f)
                .map_err(|e| format!("llm.api_key_file {}: {e}", f.display()))?
                .trim()
                .to_string(),
            None => c.api_key.clone(),
        };
        Ok(Some(ModelSettings {
            url: c.url.trim_end_matches('/').to_string(),
            model: c.model.clone(),
            api_key,
            timeout: c.timeout.0,
        }))
    }
}

/// What the model answered, with what it cost.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// The message text.
    pub content: String,
    /// Tokens of the prompt, as the endpoint counted them.
    pub prompt_tokens: u32,
    /// Tokens of the answer.
    pub completion_tokens: u32,
}

/// Why there is no usable answer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ModelError {
    /// `QA003` (the answer is not usable) or `QA004` (no answer: endpoint error or timeout).
    pub code: &'static str,
    /// What went wrong, naming the endpoint, never the key.
    pub message: String,
}

/// Longest answer used, in bytes (a plan or one SELECT is far shorter).
pub const MAX_ANSWER: usize = 64 * 1024;

/// A failed request, and whether the endpoint refused the request itself (a 400-class
/// status other than authentication and rate limits).
struct Failure {
    error: ModelError,
    refused_request: bool,
}

/// An answer's expected shape: a name and a JSON schema, sent as `response_format`.
pub struct Shape<'a> {
    /// Name of the format (`analysis_plan`).
    pub name: &'a str,
    /// JSON schema of the answer.
    pub schema: serde_json::Value,
}

/// One message of a conversation after the system message.
#[derive(Debug, Clone, PartialEq)]
pub enum Turn {
    /// What Querent says (the question, or the error of the last answer).
    User(String),
    /// What the model answered.
    Assistant(String),
}

/// A client of one endpoint.
pub struct ModelClient {
    settings: ModelSettings,
    client: Client<OpenAIConfig>,
    /// Set once the endpoint refused a `response_format`: later requests go without it (the
    /// prompt describes the answer's form either way).
    plain_json: AtomicBool,
}

impl ModelClient {
    /// A client for `settings` (no request is made yet).
    pub fn new(settings: ModelSettings) -> ModelClient {
        let mut config = OpenAIConfig::new().with_api_base(settings.url.clone());
        if !settings.api_key.is_empty() {
            config = config.with_api_key(settings.api_key.clone());
        }
        ModelClient {
            client: Client::with_config(config),
            settings,
            plain_json: AtomicBool::new(false),
        }
    }

    /// The model's name.
    pub fn model(&self) -> &str {
        &self.settings.model
    }

    /// The endpoint as errors name it (the URL without credentials or query string).
    pub fn endpoint(&self) -> String {
        let url = self
            .settings
            .url
            .split(['?', '#'])
            .next()
            .unwrap_or_default();
        match (url.find("://"), url.find('@')) {
            (Some(s), Some(at)) if at > s => format!("{}{}", &url[..s + 3], &url[at + 1..]),
            _ => url.to_string(),
        }
    }

    /// One chat completion: a system and a user message; with `shape`, the answer's schema as
    /// `response_format` (strict JSON schema).
    pub async fn complete(
        &self,
        system: &str,
        user: &str,
        shape: Option<Shape<'_>>,
    ) -> Result<Reply, ModelError> {
        self.chat(system, &[Turn::User(user.to_string())], shape.as_ref())
            .await
    }

    /// One chat completion of a conversation. With `shape` the answer's schema goes as
    /// `response_format`, unless the endpoint refused one before: an endpoint that answers a
    /// request with a schema with an error (400-class, as servers without structured output
    /// do) is asked again without it, once, and from then on.
    pub async fn chat(
        &self,
        system: &str,
        turns: &[Turn],
        shape: Option<&Shape<'_>>,
    ) -> Result<Reply, ModelError> {
        // Without a response_format the prompt carries the schema as text.
        let plain = |shape: &Shape<'_>| {
            format!(
                "{system}\n\nAnswer with JSON that follows this JSON schema:\n{}",
                shape.schema
            )
        };
        match shape {
            Some(sh) if self.plain_json.load(Ordering::Relaxed) => self
                .once(&plain(sh), turns, None)
                .await
                .map_err(|e| e.error),
            Some(sh) => match self.once(system, turns, Some(sh)).await {
                Err(e) if e.refused_request => {
                    let retry = self.once(&plain(sh), turns, None).await;
                    if retry.is_ok() {
                        self.plain_json.store(true, Ordering::Relaxed);
                    }
                    retry.map_err(|e| e.error)
                }
                other => other.map_err(|e| e.error),
            },
            None => self.once(system, turns, None).await.map_err(|e| e.error),
        }
    }

    async fn once(
        &self,
        system: &str,
        turns: &[Turn],
        shape: Option<&Shape<'_>>,
    ) -> Result<Reply, Failure> {
        let failed = |code: &'static str, what: String| Failure {
            error: ModelError {
                code,
                message: format!("the language model at {} {what}", self.endpoint()),
            },
            refused_request: false,
        };
        let mut messages = vec![ChatCompletionRequestMessage::System(
            ChatCompletionRequestSystemMessage::from(system),
        )];
        for t in turns {
            messages.push(match t {
                Turn::User(u) => ChatCompletionRequestMessage::User(
                    ChatCompletionRequestUserMessage::from(u.as_str()),
                ),
                Turn::Assistant(a) => ChatCompletionRequestMessage::Assistant(
                    ChatCompletionRequestAssistantMessage::from(a.as_str()),
                ),
            });
        }
        let mut args = CreateChatCompletionRequestArgs::default();
        args.model(self.settings.model.clone()).messages(messages);
        if let Some(shape) = shape {
            args.response_format(ResponseFormat::JsonSchema {
                json_schema: ResponseFormatJsonSchema {
                    description: None,
                    name: shape.name.to_string(),
                    schema: shape.schema.clone(),
                    strict: Some(true),
                },
            });
        }
        let request = args
            .build()
            .map_err(|e| failed("QA003", format!("could not be asked: {e}")))?;
        let chat = self.client.chat();
        let call = chat.create(request);
        let response = match tokio::time::timeout(self.settings.timeout, call).await {
            Err(_) => {
                return Err(failed(
                    "QA004",
                    format!("did not answer within {:?}", self.settings.timeout),
                ))
            }
            Ok(Err(e)) => {
                let refused_request = matches!(&e, async_openai::error::OpenAIError::ApiError(api)
                    if api.status_code.is_client_error()
                        && ![401, 403, 429].contains(&api.status_code.as_u16()));
                return Err(Failure {
                    error: self.classify(e),
                    refused_request,
                });
            }
            Ok(Ok(r)) => r,
        };
        let content = response
            .choices
            .first()
            .and_then(|c| c.message.content.clone())
            .filter(|c| !c.trim().is_empty())
            .ok_or_else(|| failed("QA003", "answered with no message".into()))?;
        if content.len() > MAX_ANSWER {
            return Err(failed(
                "QA003",
                format!(
                    "answered with {} bytes, more than the {} KiB an answer may have",
                    content.len(),
                    MAX_ANSWER / 1024
                ),
            ));
        }
        let (prompt_tokens, completion_tokens) = response
            .usage
            .map(|u| (u.prompt_tokens, u.completion_tokens))
            .unwrap_or((0, 0));
        Ok(Reply {
            content,
            prompt_tokens,
            completion_tokens,
        })
    }

    /// An error of the client as ASK reports it: the endpoint's own message for an API error,
    /// the kind of failure otherwise; the key never appears.
    fn classify(&self, e: async_openai::error::OpenAIError) -> ModelError {
        use async_openai::error::OpenAIError as E;
        let (code, what) = match e {
            E::ApiError(api) => (
                "QA004",
                format!("answered with an error: {}", api.api_error.message),
            ),
            E::JSONDeserialize(_, _) => (
                "QA003",
                "answered with something that is not a chat completion".to_string(),
            ),
            E::Reqwest(r) if r.is_timeout() => ("QA004", "did not answer in time".to_string()),
            E::Reqwest(r) if r.is_connect() => ("QA004", "could not be reached".to_string()),
            E::Reqwest(r) => ("QA004", format!("failed: {}", r.without_url())),
            other => ("QA004", format!("failed: {other}")),
        };
        // What the endpoint said reaches clients and logs: no control characters in it.
        let what: String = what
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .take(500)
            .collect();
        let mut message = format!("the language model at {} {what}", self.endpoint());
        if !self.settings.api_key.is_empty() {
            message = message.replace(&self.settings.api_key, "<key>");
        }
        ModelError { code, message }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_come_from_llm_config_env_and_key_file() {
        let env = [
            ("QUERENT_LLM_URL", "http://127.0.0.1:11434/v1/"),
            ("QUERENT_LLM_MODEL", "qwen2.5-coder"),
            ("QUERENT_LLM_TIMEOUT", "5s"),
            ("QUERENT_LLM_MODE", "always"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()));
        let mut cfg = crate::config::load(None, env, &[]).unwrap();
        assert_eq!(cfg.llm.max_repairs, 2);
        let key = std::env::temp_dir().join(format!("querent-llm-key-{}", std::process::id()));
        std::fs::write(&key, "sk-from-file\n").unwrap();
        cfg.llm.api_key_file = Some(key.clone());
        let s = ModelSettings::from_config(&cfg.llm).unwrap().unwrap();
        std::fs::remove_file(&key).unwrap();
        assert_eq!(s.url, "http://127.0.0.1:11434/v1");
        assert_eq!(s.model, "qwen2.5-coder");
        assert_eq!(s.api_key, "sk-from-file");
        assert_eq!(s.timeout, Duration::from_secs(5));
        // The key is never printed.
        assert!(!format!("{s:?}").contains("sk-from-file"));
        cfg.llm.api_key = "sk-inline".into();
        assert!(!format!("{:?}", cfg.llm).contains("sk-inline"));
        // No URL, or mode off: no model.
        cfg.llm.mode = "off".into();
        assert!(ModelSettings::from_config(&cfg.llm).unwrap().is_none());
        assert!(ModelSettings::from_config(&Default::default())
            .unwrap()
            .is_none());
        // A bad mode is refused when the configuration loads.
        let bad = [("QUERENT_LLM_MODE".to_string(), "sometimes".to_string())];
        assert!(crate::config::load(None, bad, &[]).is_err());
    }

    #[test]
    fn errors_name_the_endpoint_without_credentials() {
        let c = ModelClient::new(ModelSettings {
            url: "https://user:pw@llm.example.com/v1".into(),
            model: "m".into(),
            api_key: String::new(),
            timeout: Duration::from_secs(1),
        });
        assert_eq!(c.endpoint(), "https://llm.example.com/v1");
        let q = ModelClient::new(ModelSettings {
            url: "https://llm.example.com/v1?api-version=1&api-key=SECRET".into(),
            model: "m".into(),
            api_key: String::new(),
            timeout: Duration::from_secs(1),
        });
        assert_eq!(q.endpoint(), "https://llm.example.com/v1");
        // Keys SQL would escape, and more repairs than allowed, are refused at load.
        for (k, v) in [
            ("QUERENT_GUARD_MASK_SECRET", "it's"),
            ("QUERENT_GUARD_MASK_SECRET", "back\\slash"),
            ("QUERENT_GUARD_MASK_SECRET", "clé"),
            ("QUERENT_LLM_MAX_REPAIRS", "11"),
        ] {
            let env = [(k.to_string(), v.to_string())];
            assert!(crate::config::load(None, env, &[]).is_err(), "{k}={v}");
        }
    }
}
