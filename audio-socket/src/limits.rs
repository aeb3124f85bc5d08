//! The open-file limit. Every call and every pending connection is a
//! socket, and the usual soft limit (1024) is below `AUDIO_MAX_CALLS` +
//! `AUDIO_MAX_PENDING`: past it `accept` fails and new connections wait in
//! the kernel's backlog, real calls among them. The soft limit is raised to
//! the hard one, which an unprivileged process may do.

use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};

/// The soft open-file limit before and after [`raise_open_files`]
/// (`None`: unlimited).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OpenFiles {
    pub before: Option<u64>,
    pub now: Option<u64>,
}

impl OpenFiles {
    /// Whether `n` descriptors fit under the soft limit now.
    pub fn allows(&self, n: u64) -> bool {
        self.now.is_none_or(|limit| n <= limit)
    }
}

/// Raises the soft `RLIMIT_NOFILE` to the hard limit.
pub fn raise_open_files() -> OpenFiles {
    let limit = getrlimit(Resource::Nofile);
    let before = limit.current;
    let wanted = Rlimit {
        current: limit.maximum,
        maximum: limit.maximum,
    };
    let now = if wanted.current != before && setrlimit(Resource::Nofile, wanted).is_ok() {
        wanted.current
    } else {
        before
    };
    OpenFiles { before, now }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_soft_limit_ends_at_the_hard_one() {
        let files = raise_open_files();
        assert_eq!(files.now, getrlimit(Resource::Nofile).current);
        assert_eq!(files.now, getrlimit(Resource::Nofile).maximum);
        assert!(files.allows(1));
        let capped = OpenFiles {
            before: Some(1024),
            now: Some(1024),
        };
        assert!(capped.allows(1024) && !capped.allows(1025));
    }
}
