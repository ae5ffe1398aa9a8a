//! Per-run control groups where the machine allows them: a memory limit (swap included),
//! a process limit and a CPU quota, the run's peak memory and out-of-memory kills, and a
//! way to kill every process of the run. cgroup v1 (one hierarchy per controller) and
//! v2 (one unified hierarchy) are both handled; each group is made under the server's own.

use std::ffi::CString;
use std::path::{Path, PathBuf};

use crate::exec::Limits;

const ROOT: &str = "/sys/fs/cgroup";

/// Where this machine lets the server make groups.
#[derive(Debug, Clone)]
pub enum Hierarchy {
    /// cgroup v1: the server's own directory in the memory, pids and cpu hierarchies (each
    /// optional).
    V1 {
        memory: Option<PathBuf>,
        pids: Option<PathBuf>,
        cpu: Option<PathBuf>,
    },
    /// cgroup v2: the directory new groups go in.
    V2(PathBuf),
}

impl Hierarchy {
    /// What this machine offers, or `None` (no limits beyond rlimits and the clock).
    pub fn detect() -> Option<Self> {
        let own = std::fs::read_to_string("/proc/self/cgroup").ok()?;
        let mut v1 = (None, None, None);
        let mut unified = None;
        for line in own.lines() {
            let mut fields = line.splitn(3, ':');
            let (_, controllers, path) = (fields.next()?, fields.next()?, fields.next()?);
            let path = path.trim_start_matches('/');
            for controller in controllers.split(',') {
                let dir = Path::new(ROOT).join(controller).join(path);
                let writable = is_writable(&dir);
                match controller {
                    "memory" if writable => v1.0 = Some(dir),
                    "pids" if writable => v1.1 = Some(dir),
                    "cpu" if writable => v1.2 = Some(dir),
                    "" => unified = Some(path.to_owned()),
                    _ => {}
                }
            }
        }
        if v1.0.is_some() || v1.1.is_some() {
            return Some(Hierarchy::V1 {
                memory: v1.0,
                pids: v1.1,
                cpu: v1.2,
            });
        }
        // Pure v2: groups go beside the server's (a group with processes in it cannot
        // hold children that have controllers).
        let own = Path::new(ROOT).join(unified?);
        let parent = own.parent()?.to_owned();
        let controllers = std::fs::read_to_string(parent.join("cgroup.subtree_control")).ok()?;
        (controllers.contains("memory") && is_writable(&parent)).then_some(Hierarchy::V2(parent))
    }

    /// Makes the groups of one run with its limits.
    pub fn create(&self, name: &str, limits: &Limits) -> std::io::Result<RunGroup> {
        let memory = (u64::from(limits.memory_mib) * 1024 * 1024).to_string();
        let mut dirs = Vec::new();
        match self {
            Hierarchy::V1 {
                memory: mem,
                pids,
                cpu,
            } => {
                if let Some(parent) = mem {
                    let dir = make(parent, name, &mut dirs)?;
                    write(&dir, "memory.limit_in_bytes", &memory)?;
                    // Swap counts too where the kernel accounts it.
                    let _ = write(&dir, "memory.memsw.limit_in_bytes", &memory);
                }
                if let Some(parent) = pids {
                    let dir = make(parent, name, &mut dirs)?;
                    write(&dir, "pids.max", &limits.processes.to_string())?;
                }
                if let Some(parent) = cpu {
                    let dir = make(parent, name, &mut dirs)?;
                    let _ = write(&dir, "cpu.cfs_period_us", "100000");
                    let _ = write(&dir, "cpu.cfs_quota_us", "100000");
                }
            }
            Hierarchy::V2(parent) => {
                let dir = make(parent, name, &mut dirs)?;
                write(&dir, "memory.max", &memory)?;
                let _ = write(&dir, "memory.swap.max", "0");
                let _ = write(&dir, "pids.max", &limits.processes.to_string());
                let _ = write(&dir, "cpu.max", "100000 100000");
            }
        }
        Ok(RunGroup { dirs })
    }
}

fn is_writable(dir: &Path) -> bool {
    let Ok(path) = CString::new(dir.as_os_str().as_encoded_bytes()) else {
        return false;
    };
    // SAFETY: access only reads the NUL-terminated path.
    dir.is_dir() && unsafe { libc::access(path.as_ptr(), libc::W_OK) } == 0
}

fn make(parent: &Path, name: &str, dirs: &mut Vec<PathBuf>) -> std::io::Result<PathBuf> {
    let dir = parent.join(name);
    std::fs::create_dir(&dir)?;
    dirs.push(dir.clone());
    Ok(dir)
}

fn write(dir: &Path, file: &str, value: &str) -> std::io::Result<()> {
    std::fs::write(dir.join(file), value)
}

/// The groups of one run; removed (after killing what is left in them) when dropped.
#[derive(Debug)]
pub struct RunGroup {
    dirs: Vec<PathBuf>,
}

impl RunGroup {
    /// The `cgroup.procs` files a process joins (from the child, before it runs the
    /// sandbox), as C strings ready for `open`.
    pub fn procs_files(&self) -> Vec<CString> {
        self.dirs
            .iter()
            .filter_map(|dir| {
                CString::new(dir.join("cgroup.procs").into_os_string().into_encoded_bytes()).ok()
            })
            .collect()
    }

    /// The most memory the run used, in bytes.
    pub fn peak_bytes(&self) -> Option<u64> {
        self.dirs.iter().find_map(|dir| {
            ["memory.max_usage_in_bytes", "memory.peak"]
                .iter()
                .find_map(|file| std::fs::read_to_string(dir.join(file)).ok())
                .and_then(|text| text.trim().parse().ok())
        })
    }

    /// Out-of-memory kills in the run.
    pub fn oom_kills(&self) -> u64 {
        self.dirs
            .iter()
            .filter_map(|dir| {
                ["memory.oom_control", "memory.events"]
                    .iter()
                    .find_map(|file| std::fs::read_to_string(dir.join(file)).ok())
            })
            .flat_map(|text| {
                text.lines()
                    .filter_map(|line| line.strip_prefix("oom_kill "))
                    .filter_map(|count| count.trim().parse::<u64>().ok())
                    .collect::<Vec<_>>()
            })
            .sum()
    }

    /// Kills every process still in the run's groups; true if none is left.
    pub fn kill_all(&self) -> bool {
        let mut empty = true;
        for dir in &self.dirs {
            let Ok(procs) = std::fs::read_to_string(dir.join("cgroup.procs")) else {
                continue;
            };
            for pid in procs.lines().filter_map(|pid| pid.trim().parse::<i32>().ok()) {
                empty = false;
                // SAFETY: kill only sends a signal to the process id.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
        empty
    }
}

impl Drop for RunGroup {
    fn drop(&mut self) {
        for _ in 0..50 {
            if self.kill_all() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        for dir in &self.dirs {
            if let Err(err) = std::fs::remove_dir(dir) {
                tracing::warn!(dir = %dir.display(), error = %err, "cannot remove a run's cgroup");
            }
        }
    }
}
