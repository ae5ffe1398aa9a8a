//! What happens to a run, as everyone in the room (over the room socket) and an API
//! client (as server-sent events) sees it: JSON objects with a `type`, documented in
//! docs/protocol.md (`0x8a Run`).

use serde::Serialize;

use super::Stream;

/// One event of one run.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum RunEvent {
    /// The run waits for a sandbox; `position` 1 is next.
    #[serde(rename_all = "camelCase")]
    Queued {
        run_id: String,
        started_by: String,
        language: String,
        position: usize,
    },
    #[serde(rename_all = "camelCase")]
    Started {
        run_id: String,
        started_by: String,
        language: String,
        runtime: String,
    },
    #[serde(rename_all = "camelCase")]
    Output {
        run_id: String,
        stream: Stream,
        data: String,
    },
    /// The run ended; `run` is the stored run as the API shows it.
    #[serde(rename_all = "camelCase")]
    Finished { run_id: String, run: serde_json::Value },
    /// Only to whoever asked: the run did not start.
    Refused { message: String },
}

impl RunEvent {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("run events serialise")
    }

    /// The name of the server-sent event carrying it.
    pub fn kind(&self) -> &'static str {
        match self {
            RunEvent::Queued { .. } => "queued",
            RunEvent::Started { .. } => "started",
            RunEvent::Output { .. } => "output",
            RunEvent::Finished { .. } => "finished",
            RunEvent::Refused { .. } => "refused",
        }
    }
}

/// The refusal event for `message`.
pub fn refused(message: impl Into<String>) -> String {
    RunEvent::Refused {
        message: message.into(),
    }
    .to_json()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_the_documented_json() {
        let event = RunEvent::Output {
            run_id: "r1".into(),
            stream: Stream::Stderr,
            data: "oops\n".into(),
        };
        assert_eq!(
            event.to_json(),
            r#"{"type":"output","runId":"r1","stream":"stderr","data":"oops\n"}"#
        );
        let queued = RunEvent::Queued {
            run_id: "r2".into(),
            started_by: "Ada".into(),
            language: "python".into(),
            position: 2,
        };
        assert_eq!(
            queued.to_json(),
            r#"{"type":"queued","runId":"r2","startedBy":"Ada","language":"python","position":2}"#
        );
        assert_eq!(refused("no"), r#"{"type":"refused","message":"no"}"#);
    }
}
