//! The error codes of docs/protocol.md, with their close codes.

/// What went wrong, as the `Error` message names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    MalformedMessage,
    UnsupportedVersion,
    ExpectedHello,
    InvalidHello,
    InvalidChange,
    ObserverCannotEdit,
    MissingDependencies,
    TooManyPending,
    MessageTooLarge,
    RateLimited,
    RoomFull,
    RoomNotFound,
    InvalidPresence,
    RoomEnded,
    AccessRevoked,
    ServerShuttingDown,
    Internal,
}

impl ErrorCode {
    /// Every code, for tests and documentation checks.
    pub const ALL: [ErrorCode; 17] = [
        ErrorCode::MalformedMessage,
        ErrorCode::UnsupportedVersion,
        ErrorCode::ExpectedHello,
        ErrorCode::InvalidHello,
        ErrorCode::InvalidChange,
        ErrorCode::ObserverCannotEdit,
        ErrorCode::MissingDependencies,
        ErrorCode::TooManyPending,
        ErrorCode::MessageTooLarge,
        ErrorCode::RateLimited,
        ErrorCode::RoomFull,
        ErrorCode::RoomNotFound,
        ErrorCode::InvalidPresence,
        ErrorCode::RoomEnded,
        ErrorCode::AccessRevoked,
        ErrorCode::ServerShuttingDown,
        ErrorCode::Internal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::MalformedMessage => "malformed_message",
            Self::UnsupportedVersion => "unsupported_version",
            Self::ExpectedHello => "expected_hello",
            Self::InvalidHello => "invalid_hello",
            Self::InvalidChange => "invalid_change",
            Self::ObserverCannotEdit => "observer_cannot_edit",
            Self::MissingDependencies => "missing_dependencies",
            Self::TooManyPending => "too_many_pending",
            Self::MessageTooLarge => "message_too_large",
            Self::RateLimited => "rate_limited",
            Self::RoomFull => "room_full",
            Self::RoomNotFound => "room_not_found",
            Self::InvalidPresence => "invalid_presence",
            Self::RoomEnded => "room_ended",
            Self::AccessRevoked => "access_revoked",
            Self::ServerShuttingDown => "server_shutting_down",
            Self::Internal => "internal",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|code| code.as_str() == text)
    }

    /// Whether the server closes the connection after this error.
    pub fn is_fatal(self) -> bool {
        !matches!(self, Self::InvalidPresence | Self::RoomEnded)
    }

    /// The WebSocket close code that follows a fatal error.
    pub fn close_code(self) -> u16 {
        match self {
            Self::MalformedMessage | Self::ExpectedHello | Self::InvalidHello => 4400,
            Self::UnsupportedVersion => 4426,
            Self::InvalidChange => 4422,
            Self::ObserverCannotEdit | Self::AccessRevoked => 4403,
            Self::MissingDependencies => 4424,
            Self::TooManyPending | Self::RateLimited => 4429,
            Self::MessageTooLarge => 1009,
            Self::RoomFull => 4503,
            Self::RoomNotFound => 4404,
            Self::InvalidPresence | Self::RoomEnded => 1000,
            Self::ServerShuttingDown => 1001,
            Self::Internal => 1011,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_close_codes_are_distinct_per_kind() {
        for code in ErrorCode::ALL {
            assert_eq!(ErrorCode::parse(code.as_str()), Some(code));
        }
        assert_eq!(ErrorCode::parse("nope"), None);
        assert!(!ErrorCode::InvalidPresence.is_fatal() && !ErrorCode::RoomEnded.is_fatal());
        assert_eq!(ErrorCode::MessageTooLarge.close_code(), 1009);
    }
}
