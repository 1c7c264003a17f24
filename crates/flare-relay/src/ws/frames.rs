//! Browser frames: parsing a text frame into a [`ClientFrame`], or a [`BadFrame`] that says what
//! is wrong with it and which id to answer; and the error frames the socket answers with.

use axum::extract::ws::Utf8Bytes;
use flare_model::{
    ClientBody, ClientFrame, Command, FlareError, MutateCommand, ReadCommand, ServerFrame, Topic,
};
use serde::de::{self, DeserializeOwned, Visitor};
use serde_json::Value;

use crate::hub::frame_text;

/// What is wrong with a browser frame.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("malformed JSON: {0}")]
    Malformed(serde_json::Error),
    #[error(
        "a frame must be a JSON object such as {{\"id\": 1, \"command\": \"get_system_info\"}}"
    )]
    NotAnObject,
    #[error("the frame has no id")]
    NoId,
    #[error("id must be a non-negative integer, not {0}")]
    BadId(Value),
    #[error("a frame needs exactly one of command, subscribe or unsubscribe besides id, not {0:?}")]
    NotOneBody(Vec<String>),
    #[error("unknown frame field {0:?}: expected command, subscribe or unsubscribe")]
    UnknownField(String),
    #[error(
        "a command is a name such as \"get_system_info\" or an object with one key such as \
         {{\"abort_job\": {{\"job_id\": \"...\"}}}}"
    )]
    NotACommand,
    #[error("unknown command {0:?}")]
    UnknownCommand(String),
    #[error("bad arguments for {name}: {reason}")]
    BadArguments {
        name: String,
        reason: serde_json::Error,
    },
    #[error(
        "bad topic: {0} (topics are \"system\", \"jobs\" or {{\"job\": {{\"job_id\": \"...\"}}}})"
    )]
    BadTopic(serde_json::Error),
}

/// A frame the relay cannot use: the id to answer with (0 before the id is known) and why.
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct BadFrame {
    pub id: u64,
    pub error: FrameError,
}

/// Parses a browser frame.
pub fn parse_frame(text: &str) -> Result<ClientFrame, BadFrame> {
    let before_id = |error| BadFrame { id: 0, error };
    let value: Value =
        serde_json::from_str(text).map_err(|e| before_id(FrameError::Malformed(e)))?;
    let Value::Object(mut fields) = value else {
        return Err(before_id(FrameError::NotAnObject));
    };
    let id = match fields.remove("id") {
        Some(id) => id.as_u64().ok_or(before_id(FrameError::BadId(id)))?,
        None => return Err(before_id(FrameError::NoId)),
    };
    let bad = |error| BadFrame { id, error };
    let mut fields = fields.into_iter();
    let (key, body) = match (fields.next(), fields.next()) {
        (Some(field), None) => field,
        (first, second) => {
            let keys = first.into_iter().chain(second).map(|(key, _)| key);
            return Err(bad(FrameError::NotOneBody(
                keys.chain(fields.map(|(key, _)| key)).collect(),
            )));
        }
    };
    let body = match key.as_str() {
        "command" => ClientBody::Command(parse_command(body).map_err(bad)?),
        "subscribe" => ClientBody::Subscribe(parse_topic(body).map_err(bad)?),
        "unsubscribe" => ClientBody::Unsubscribe(parse_topic(body).map_err(bad)?),
        _ => return Err(bad(FrameError::UnknownField(key))),
    };
    Ok(ClientFrame { id, body })
}

fn parse_topic(value: Value) -> Result<Topic, FrameError> {
    serde_json::from_value(value).map_err(FrameError::BadTopic)
}

/// Parses a command, naming an unknown command or the bad argument of a known one.
pub fn parse_command(value: Value) -> Result<Command, FrameError> {
    let name = match &value {
        Value::String(name) => name.clone(),
        Value::Object(fields) if fields.len() == 1 => {
            fields.keys().next().cloned().unwrap_or_default()
        }
        _ => return Err(FrameError::NotACommand),
    };
    let bad_arguments = |reason| FrameError::BadArguments {
        name: name.clone(),
        reason,
    };
    if variant_names::<ReadCommand>().contains(&name.as_str()) {
        serde_json::from_value(value)
            .map(Command::Read)
            .map_err(bad_arguments)
    } else if variant_names::<MutateCommand>().contains(&name.as_str()) {
        serde_json::from_value(value)
            .map(Command::Mutate)
            .map_err(bad_arguments)
    } else {
        Err(FrameError::UnknownCommand(name))
    }
}

/// The variant names an enum's `Deserialize` accepts, as serde hands them to a deserializer.
fn variant_names<T: DeserializeOwned>() -> &'static [&'static str] {
    let mut names: &'static [&'static str] = &[];
    // The probe always fails: it only records what the enum asked for.
    let _ = T::deserialize(VariantNames(&mut names));
    names
}

/// A deserializer that records the variant names of the enum deserialized from it.
struct VariantNames<'a>(&'a mut &'static [&'static str]);

impl<'de> de::Deserializer<'de> for VariantNames<'_> {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("not an enum"))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Self::Error> {
        *self.0 = variants;
        Err(de::Error::custom("variant names recorded"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct identifier
        ignored_any
    }
}

/// A `bad_request` error frame.
pub(super) fn bad_request(id: u64, message: &str) -> Utf8Bytes {
    error_frame(
        id,
        FlareError::BadRequest {
            message: message.to_owned(),
        },
    )
}

/// A `rate_limited` error frame.
pub(super) fn rate_limited(id: u64, message: String) -> Utf8Bytes {
    error_frame(id, FlareError::RateLimited { message })
}

fn error_frame(id: u64, error: FlareError) -> Utf8Bytes {
    frame_text(&ServerFrame::Error { id, error })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_parse_like_the_model_serializes_them() {
        let frames = [
            ClientFrame {
                id: 1,
                body: ClientBody::Command(Command::Read(ReadCommand::GetSystemInfo)),
            },
            ClientFrame {
                id: 2,
                body: ClientBody::Command(Command::Mutate(MutateCommand::AbortJob {
                    job_id: "j".into(),
                })),
            },
            ClientFrame {
                id: 3,
                body: ClientBody::Subscribe(Topic::Job { job_id: "j".into() }),
            },
            ClientFrame {
                id: 4,
                body: ClientBody::Unsubscribe(Topic::Jobs),
            },
        ];
        for frame in frames {
            let text = serde_json::to_string(&frame).expect("serialize");
            let parsed = parse_frame(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(parsed, frame, "{text}");
        }
    }

    #[test]
    fn the_command_names_come_from_the_model() {
        let read = variant_names::<ReadCommand>();
        let mutate = variant_names::<MutateCommand>();
        assert!(
            read.contains(&ReadCommand::GetSystemInfo.name()),
            "{read:?}"
        );
        let abort = MutateCommand::AbortJob { job_id: "j".into() };
        assert!(mutate.contains(&abort.name()), "{mutate:?}");
        assert!(read.iter().all(|name| !mutate.contains(name)));
    }

    #[test]
    fn bad_frames_say_what_is_wrong() {
        let cases = [
            ("{not json", 0, "malformed JSON"),
            ("[1]", 0, "must be a JSON object"),
            ("{\"command\": \"get_system_info\"}", 0, "no id"),
            (
                "{\"id\": -1, \"command\": \"x\"}",
                0,
                "non-negative integer, not -1",
            ),
            ("{\"id\": 5}", 5, "besides id, not []"),
            (
                "{\"id\": 5, \"command\": \"x\", \"subscribe\": \"jobs\"}",
                5,
                "besides id, not [\"command\", \"subscribe\"]",
            ),
            (
                "{\"id\": 6, \"shout\": 1}",
                6,
                "unknown frame field \"shout\"",
            ),
            (
                "{\"id\": 7, \"command\": \"fly\"}",
                7,
                "unknown command \"fly\"",
            ),
            (
                "{\"id\": 8, \"command\": {\"abort_job\": {}}}",
                8,
                "bad arguments for abort_job: missing field `job_id`",
            ),
            (
                "{\"id\": 9, \"command\": {\"get_job_meta\": {}}}",
                9,
                "bad arguments for get_job_meta: missing field `job_id`",
            ),
            (
                "{\"id\": 10, \"subscribe\": \"everything\"}",
                10,
                "bad topic",
            ),
        ];
        for (text, want_id, want) in cases {
            let BadFrame { id, error } = parse_frame(text).expect_err(text);
            assert_eq!(id, want_id, "{text}");
            let message = error.to_string();
            assert!(message.contains(want), "{text}: {message}");
        }
    }

    #[test]
    fn unknown_commands_and_bad_arguments_are_told_apart_by_name() {
        let unknown = parse_command(serde_json::json!({"fly": {"job_id": "j"}}));
        assert!(
            matches!(&unknown, Err(FrameError::UnknownCommand(name)) if name == "fly"),
            "{unknown:?}"
        );
        // A read and a mutating command with a bad argument: each names its own reason.
        for (value, name) in [
            (
                serde_json::json!({"get_job_meta": {"job_id": 1}}),
                "get_job_meta",
            ),
            (serde_json::json!({"abort_job": {"job_id": 1}}), "abort_job"),
        ] {
            let error = parse_command(value).expect_err(name);
            let FrameError::BadArguments { name: got, reason } = &error else {
                panic!("{name}: {error:?}");
            };
            assert_eq!(got, name);
            assert!(reason.is_data(), "{name}: {reason}");
        }
    }

    #[test]
    fn a_command_is_a_name_or_a_one_key_object() {
        for value in [serde_json::json!(1), serde_json::json!({"a": 1, "b": 2})] {
            let error = parse_command(value.clone()).expect_err("not a command");
            assert!(matches!(error, FrameError::NotACommand), "{value}");
        }
        // A struct command sent as a bare name is a known command with bad arguments.
        let error = parse_command(serde_json::json!("abort_job")).expect_err("no job id");
        assert!(
            matches!(&error, FrameError::BadArguments { name, .. } if name == "abort_job"),
            "{error:?}"
        );
    }
}
