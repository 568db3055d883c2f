//! The model stage of ASK: a question the deterministic planner declined (or every question,
//! with `llm.mode = always`) asked of the configured language model, and its answer checked
//! as strictly as typed SQL before anything runs. One loop, at most `llm.max_repairs` repairs:
//!
//! ask → read the answer (`agent::parse_answer`) → a plan is checked against the role's view
//! and compiled; SQL must be one read-only query (`sql_check`) → the session's guard →
//! `EXPLAIN` upstream (`verify`) → done; any failure goes back to the model as the next turn.
//!
//! Answers are cached by question, catalog and policy version, the principal's roles, model
//! and prompt version (never across principals whose views differ); tokens are counted per
//! principal per minute against `llm.tokens_per_minute`.

use super::agent::{self, Candidate};
use super::model::{ModelClient, ModelError, ModelSettings, Shape, Turn};
use super::plan::AnalysisPlan;
use super::verify::Verifier;
use crate::catalog::store::Semantic;
use crate::error::PgError;
use crate::guard::{Decision, Guard, SessionGuard};
use crate::metrics::METRICS;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// SQLSTATE when the model gives no usable answer.
pub const MODEL_FAILED: &str = "QA003";
/// SQLSTATE when the model's endpoint fails or is too slow.
pub const MODEL_UNAVAILABLE: &str = "QA004";
/// SQLSTATE when a principal has spent its tokens for the minute.
pub const OVER_BUDGET: &str = "QA005";

/// What the model answered, checked: the SQL before the guard, and how it was reached.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ModelMade {
    /// The plan, when the model answered one.
    pub plan: Option<AnalysisPlan>,
    /// The SQL (compiled from the plan, or the model's, printed from its parse).
    pub sql: String,
    /// Every answer of the model, in order (the last one is used).
    pub raw: Vec<String>,
    /// The catalog part of the prompt.
    pub catalog: String,
    /// Prompt tokens, all turns.
    pub prompt_tokens: u32,
    /// Answer tokens, all turns.
    pub completion_tokens: u32,
    /// Answers that failed and were repaired.
    pub repairs: u32,
    /// Time spent waiting for the model.
    pub model_time: Duration,
    /// Time spent in Querent (checks, compile, guard, EXPLAIN).
    pub own_time: Duration,
    /// Served from the cache (no model call).
    pub cached: bool,
}

/// The model's answer after the session's guard.
#[derive(Debug, Clone)]
pub struct Checked {
    /// How it was made.
    pub made: Arc<ModelMade>,
    /// The SQL to run (after the guard).
    pub guarded: String,
}

/// Everything one question needs.
pub struct Inputs<'a> {
    /// The role's catalog view.
    pub view: &'a Semantic,
    /// The session's database.
    pub database: &'a str,
    /// The question.
    pub question: &'a str,
    /// Who spends the tokens (the user name).
    pub spender: &'a str,
    /// Cache key part: roles and attribute names (see `cache::Key`).
    pub kind: String,
    /// The policy version, when policies are loaded.
    pub policy_version: Option<u64>,
    /// The guard and the session's guard state, for guarded sessions.
    pub guard: Option<(&'a Guard, &'a mut SessionGuard)>,
    /// Verified examples (question, SQL) the role may read.
    pub examples: Vec<(String, String)>,
    /// The conversation's previous question and SQL.
    pub previous: Option<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
struct Key {
    database: String,
    question: String,
    schema_version: u64,
    policy_version: Option<u64>,
    kind: String,
}

/// The configured model, with its cache, budget and upstream verifier.
pub struct ModelAgent {
    client: ModelClient,
    max_repairs: u32,
    always: bool,
    tokens_per_minute: u64,
    verifier: Verifier,
    cache: moka::sync::Cache<Key, Arc<ModelMade>>,
    shared: Option<Arc<super::redis::Redis>>,
    spent: Mutex<HashMap<String, (Instant, u64)>>,
}

impl ModelAgent {
    /// The agent of `config`, or `None` when no model is configured (or `llm.mode = off`).
    pub fn from_config(
        config: &crate::config::Config,
        target: crate::upstream::UpstreamTarget,
    ) -> Result<Option<ModelAgent>, String> {
        let Some(settings) = ModelSettings::from_config(&config.llm)? else {
            return Ok(None);
        };
        METRICS.llm_model(&settings.model);
        Ok(Some(ModelAgent {
            client: ModelClient::new(settings),
            max_repairs: config.llm.max_repairs,
            always: config.llm.mode == "always",
            tokens_per_minute: config.llm.tokens_per_minute,
            verifier: Verifier::new(target),
            cache: moka::sync::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(Duration::from_secs(24 * 3600))
                .build(),
            spent: Mutex::new(HashMap::new()),
            shared: match config.cache.redis_url.trim() {
                "" => None,
                url => Some(Arc::new(super::redis::Redis::parse(url)?)),
            },
        }))
    }

    /// Whether every question goes to the model (`llm.mode = always`).
    pub fn always(&self) -> bool {
        self.always
    }

    /// The model's name.
    pub fn model(&self) -> &str {
        self.client.model()
    }

    /// Answers `inp.question`: from the cache, or by asking the model and checking its answer.
    pub async fn answer(&self, inp: Inputs<'_>) -> Result<Checked, PgError> {
        let key = Key {
            database: inp.database.to_string(),
            question: super::cache::normalize(inp.question),
            schema_version: inp.view.catalog.version.0,
            policy_version: inp.policy_version,
            kind: inp.kind.clone(),
        };
        // A question that refers to the previous one is not the same question next time.
        let cacheable = inp.previous.is_none();
        let Inputs {
            view,
            database,
            question,
            spender,
            guard,
            examples,
            previous,
            ..
        } = inp;
        let mut guard = guard;
        let hit = match self.cache.get(&key) {
            Some(hit) => Some(hit),
            None if cacheable => self.shared_answer(&key).await,
            None => None,
        };
        if let Some(hit) = hit.filter(|_| cacheable) {
            let guarded = guarded(&mut guard, &hit.sql).await?;
            let mut made = (*hit).clone();
            made.cached = true;
            return Ok(Checked {
                made: Arc::new(made),
                guarded,
            });
        }
        let catalog = agent::catalog_prompt(view, question);
        let prev = previous.as_ref().map(|(q, s)| (q.as_str(), s.as_str()));
        let mut turns = vec![Turn::User(agent::user_prompt(
            &catalog, &examples, prev, question,
        ))];
        let shape = Shape {
            name: "ask_answer",
            schema: super::plan_schema::answer_schema(),
        };
        let started = Instant::now();
        let mut made = ModelMade {
            plan: None,
            sql: String::new(),
            raw: Vec::new(),
            catalog,
            prompt_tokens: 0,
            completion_tokens: 0,
            repairs: 0,
            model_time: Duration::ZERO,
            own_time: Duration::ZERO,
            cached: false,
        };
        let mut last_error = String::new();
        for attempt in 0..=self.max_repairs {
            self.within_budget(spender)?;
            let asked = Instant::now();
            METRICS.llm_requests.inc();
            let reply = self.client.chat(agent::SYSTEM, &turns, Some(&shape)).await;
            let took = asked.elapsed();
            METRICS.llm_latency.observe(took);
            made.model_time += took;
            let reply = reply
                .inspect_err(|_| METRICS.llm_failures.inc())
                .map_err(model_error)?;
            // An endpoint reporting no (or too few) tokens is charged a floor: 4 bytes a token.
            let sent: usize = agent::SYSTEM.len()
                + turns
                    .iter()
                    .map(|t| match t {
                        Turn::User(s) | Turn::Assistant(s) => s.len(),
                    })
                    .sum::<usize>();
            let floor = ((sent + reply.content.len()) / 4) as u32;
            self.spend(
                spender,
                (reply.prompt_tokens + reply.completion_tokens).max(floor),
            );
            METRICS.llm_tokens(reply.prompt_tokens, reply.completion_tokens);
            made.prompt_tokens += reply.prompt_tokens;
            made.completion_tokens += reply.completion_tokens;
            made.raw.push(reply.content.clone());
            match self
                .usable(view, database, &reply.content, &mut guard)
                .await
            {
                Ok((plan, sql, guarded_sql)) => {
                    made.plan = plan;
                    made.sql = sql;
                    made.repairs = attempt;
                    made.own_time = started.elapsed().saturating_sub(made.model_time);
                    let made = Arc::new(made);
                    if cacheable {
                        self.share(&key, &made);
                        self.cache.insert(key, made.clone());
                    }
                    return Ok(Checked {
                        made,
                        guarded: guarded_sql,
                    });
                }
                Err(Unusable::Stop(e)) => return Err(e),
                Err(Unusable::Repair(why)) => {
                    if attempt < self.max_repairs {
                        METRICS.llm_repairs.inc();
                    }
                    // A long failing answer is not sent back whole on every repair.
                    turns.push(Turn::Assistant(clip(reply.content, MAX_ECHO)));
                    turns.push(Turn::User(format!(
                        "That answer cannot be used: {why}\nAnswer the question again, corrected, in the same JSON form."
                    )));
                    last_error = why;
                }
            }
        }
        METRICS.llm_failures.inc();
        Err(PgError::error(
            MODEL_FAILED,
            format!(
                "the language model at {} gave no usable answer after {} repair(s): {last_error}",
                self.client.endpoint(),
                self.max_repairs
            ),
        )
        .with_hint("rephrase the question, name the tables or columns you mean, or write the SQL"))
    }

    /// The plan (if any), the SQL before and after the guard, of one answer; or why it cannot
    /// be used (to repair), or an error that ends the question.
    async fn usable(
        &self,
        view: &Semantic,
        database: &str,
        content: &str,
        guard: &mut Option<(&Guard, &mut SessionGuard)>,
    ) -> Result<(Option<AnalysisPlan>, String, String), Unusable> {
        let (plan, sql) = match agent::parse_answer(content).map_err(Unusable::Repair)? {
            Candidate::Plan(plan) => {
                super::plan_check::check_plan(&view.catalog, &plan).map_err(Unusable::Repair)?;
                let sql = super::compile::compile(view, &plan).map_err(|e| {
                    Unusable::Repair(format!("the plan cannot be compiled: {}", e.message))
                })?;
                (Some(*plan), sql)
            }
            Candidate::Sql(text) => {
                let printed =
                    super::sql_check::read_only(&text).map_err(|e| Unusable::Repair(e.message))?;
                (None, printed)
            }
        };
        let guarded_sql = guarded(guard, &sql)
            .await
            .map_err(|e| Unusable::Repair(e.message))?;
        if let Err(f) = self.verifier.explain(database, &guarded_sql).await {
            let message = match guard.as_ref() {
                Some((g, _)) => g.redact(&f.message),
                None => f.message,
            };
            if f.upstream {
                return Err(Unusable::Stop(
                    PgError::error(
                        "08006",
                        format!("ASK could not check the model's SQL: {message}"),
                    )
                    .with_hint("check that the upstream database is reachable"),
                ));
            }
            return Err(Unusable::Repair(format!(
                "PostgreSQL refused it: {message}"
            )));
        }
        Ok((plan, sql, guarded_sql))
    }

    /// The Redis key of `key`: a digest of it, the model and the prompt version.
    fn shared_key(&self, key: &Key) -> String {
        use sha2::Digest;
        let text =
            serde_json::to_string(&(key, self.model(), agent::PROMPT_VERSION)).unwrap_or_default();
        let digest = sha2::Sha256::digest(text.as_bytes());
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        format!("querent:ask:{hex}")
    }

    /// An answer another replica cached, when Redis is configured and has one.
    async fn shared_answer(&self, key: &Key) -> Option<Arc<ModelMade>> {
        let redis = self.shared.as_ref()?;
        let bytes = redis.get(&self.shared_key(key)).await?;
        let made: ModelMade = serde_json::from_slice(&bytes).ok()?;
        let made = Arc::new(made);
        self.cache.insert(key.clone(), made.clone());
        Some(made)
    }

    /// Shares a fresh answer through Redis, without waiting for it.
    fn share(&self, key: &Key, made: &ModelMade) {
        let Some(redis) = self.shared.clone() else {
            return;
        };
        let Ok(bytes) = serde_json::to_vec(made) else {
            return;
        };
        let k = self.shared_key(key);
        tokio::spawn(async move { redis.set(&k, &bytes, Duration::from_secs(24 * 3600)).await });
    }

    fn within_budget(&self, spender: &str) -> Result<(), PgError> {
        if self.tokens_per_minute == 0 {
            return Ok(());
        }
        let mut spent = self.spent.lock().unwrap_or_else(|p| p.into_inner());
        let entry = spent
            .entry(spender.to_string())
            .or_insert((Instant::now(), 0));
        if entry.0.elapsed() >= Duration::from_secs(60) {
            *entry = (Instant::now(), 0);
        }
        if entry.1 >= self.tokens_per_minute {
            let wait = 60u64.saturating_sub(entry.0.elapsed().as_secs());
            return Err(PgError::error(
                OVER_BUDGET,
                format!(
                    "user \"{spender}\" has spent its {} model tokens for this minute",
                    self.tokens_per_minute
                ),
            )
            .with_hint(format!(
                "ask again in {wait} s, or ask an administrator to raise llm.tokens_per_minute"
            )));
        }
        Ok(())
    }

    fn spend(&self, spender: &str, tokens: u32) {
        let mut spent = self.spent.lock().unwrap_or_else(|p| p.into_inner());
        let entry = spent
            .entry(spender.to_string())
            .or_insert((Instant::now(), 0));
        entry.1 += u64::from(tokens);
    }
}

/// Most bytes of a failing answer sent back with its repair request.
const MAX_ECHO: usize = 8 * 1024;

fn clip(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
        s.push_str(" ...");
    }
    s
}

enum Unusable {
    /// Tell the model and ask again.
    Repair(String),
    /// End the question with this error.
    Stop(PgError),
}

fn model_error(e: ModelError) -> PgError {
    let hint = if e.code == MODEL_UNAVAILABLE {
        "check llm.url and that the model server is running; ASK answers what its own planner can meanwhile"
    } else {
        "rephrase the question, or write the SQL"
    };
    PgError::error(e.code, e.message).with_hint(hint)
}

/// `sql` after the session's guard; unchanged for unguarded sessions.
async fn guarded(
    guard: &mut Option<(&Guard, &mut SessionGuard)>,
    sql: &str,
) -> Result<String, PgError> {
    match guard {
        Some((g, session)) => match g.check(session, sql).await {
            Decision::Pass => Ok(sql.to_string()),
            Decision::Rewrite(s) => Ok(s),
            Decision::Deny(e) => Err(e),
        },
        None => Ok(sql.to_string()),
    }
}
