//! A stand-in for `mesos-containerizer launch`, the helper a Mesos agent with the posix
//! launcher execs to start an executor (`tasks.md`, "What the helper must do").
//!
//! The agent execs `<launcher_dir>/mesos-containerizer launch` with no flags; everything comes
//! from `MESOS_CONTAINERIZER_*` variables. The helper:
//! 1. opens `<runtime_directory>/status` (write-only, create, close-on-exec, 0600) and forwards
//!    every signal it receives to the command it starts;
//! 2. closes the pipe's write end and blocks for one byte on the read end: the agent sends it
//!    after checkpointing our pid. 0 bytes means the agent died: status `256`, exit 1;
//! 3. creates and enters `working_directory`;
//! 4. builds the environment only from `launch_info.environment` (PATH defaults to the usual
//!    system path); `shell: true` runs `sh -c value` (node images have no `sh`: use
//!    `shell: false`), otherwise `value` with `arguments` as argv;
//! 5. forks; the child execs; the parent waits and writes the raw wait status in decimal.
//!
//! `user` switches to that user when it is not the helper's own (agents send it with their
//! default `--switch_user`). Launch-info fields this stand-in cannot honour (`rlimits`, `rootfs`, `mounts`,
//! `pre_exec_commands`, `capabilities`, ...) are refused with a clear error and status 256
//! rather than ignored.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI32, Ordering};

use serde_json::Value;

/// PATH when the launch info sets none (what Mesos uses).
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Launch-info keys this stand-in implements.
const SUPPORTED_KEYS: &[&str] = &[
    "command",
    "environment",
    "task_environment",
    "working_directory",
    "user",
];

/// Why `launch` could not start the command.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error("usage: mesos-containerizer launch (flags come from MESOS_CONTAINERIZER_* variables)")]
    Usage,
    #[error("{0} is not set")]
    Missing(&'static str),
    #[error("{name} is not valid: {why}")]
    Invalid { name: &'static str, why: String },
    #[error("launch info field `{0}` is not supported by this mesos-containerizer stand-in (posix launcher, no user switch, no rlimits, no images)")]
    Unsupported(String),
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> LaunchError {
    let what = what.into();
    move |source| LaunchError::Io { what, source }
}

/// The flags of one `launch`, read from the environment.
#[derive(Debug, Clone, PartialEq)]
pub struct LaunchFlags {
    pub launch_info: LaunchInfo,
    pub pipe_read: Option<i32>,
    pub pipe_write: Option<i32>,
    pub runtime_directory: Option<PathBuf>,
}

/// The part of `ContainerLaunchInfo` the posix launcher uses.
#[derive(Debug, Clone, PartialEq)]
pub struct LaunchInfo {
    /// argv to exec (for `shell: true`: `sh -c value`).
    pub argv: Vec<String>,
    /// The complete environment of the command.
    pub env: BTreeMap<String, String>,
    pub working_directory: Option<PathBuf>,
    /// `user` (agents with `--switch_user`, the default, always send the framework's user).
    pub user: Option<String>,
}

/// Reads the `MESOS_CONTAINERIZER_*` variables from `vars`.
pub fn flags_from_env(vars: &BTreeMap<String, String>) -> Result<LaunchFlags, LaunchError> {
    let raw = vars
        .get("MESOS_CONTAINERIZER_LAUNCH_INFO")
        .ok_or(LaunchError::Missing("MESOS_CONTAINERIZER_LAUNCH_INFO"))?;
    let fd = |name: &'static str| -> Result<Option<i32>, LaunchError> {
        vars.get(name)
            .map(|v| {
                v.trim().parse::<i32>().map_err(|e| LaunchError::Invalid {
                    name,
                    why: format!("{v:?}: {e}"),
                })
            })
            .transpose()
    };
    Ok(LaunchFlags {
        launch_info: parse_launch_info(raw)?,
        pipe_read: fd("MESOS_CONTAINERIZER_PIPE_READ")?,
        pipe_write: fd("MESOS_CONTAINERIZER_PIPE_WRITE")?,
        runtime_directory: vars
            .get("MESOS_CONTAINERIZER_RUNTIME_DIRECTORY")
            .map(PathBuf::from),
    })
}

/// Parses the JSON of `ContainerLaunchInfo`; refuses fields it cannot honour.
pub fn parse_launch_info(json: &str) -> Result<LaunchInfo, LaunchError> {
    let invalid = |why: String| LaunchError::Invalid {
        name: "MESOS_CONTAINERIZER_LAUNCH_INFO",
        why,
    };
    let v: Value = serde_json::from_str(json).map_err(|e| invalid(e.to_string()))?;
    let obj = v
        .as_object()
        .ok_or_else(|| invalid("not a JSON object".into()))?;
    for (key, value) in obj {
        let empty = match value {
            Value::Null => true,
            Value::Array(a) => a.is_empty(),
            Value::Object(o) => o.is_empty(),
            _ => false,
        };
        if !SUPPORTED_KEYS.contains(&key.as_str()) && !empty {
            return Err(LaunchError::Unsupported(key.clone()));
        }
    }
    let command = obj
        .get("command")
        .ok_or_else(|| invalid("no `command`".into()))?;
    let value = command
        .get("value")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let shell = command
        .get("shell")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    if command.get("user").is_some() {
        return Err(LaunchError::Unsupported("command.user".into()));
    }
    let argv = if shell {
        if value.is_empty() {
            return Err(invalid("shell command with an empty `value`".into()));
        }
        vec!["sh".to_string(), "-c".to_string(), value]
    } else {
        if value.is_empty() {
            return Err(invalid(
                "command without a `value` (the program to exec)".into(),
            ));
        }
        let args: Vec<String> = command
            .get("arguments")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        // `arguments` is the full argv (argv[0] included), as for execvp in Mesos.
        let mut argv = vec![value];
        argv.extend(args.into_iter().skip(1));
        argv
    };
    let mut env = BTreeMap::new();
    if let Some(vars) = obj
        .get("environment")
        .and_then(|e| e.get("variables"))
        .and_then(Value::as_array)
    {
        for var in vars {
            let name = var.get("name").and_then(Value::as_str).unwrap_or_default();
            if name.is_empty() {
                continue;
            }
            if var
                .get("type")
                .and_then(Value::as_str)
                .is_some_and(|t| t != "VALUE")
            {
                return Err(LaunchError::Unsupported(format!(
                    "environment variable {name} of type {}",
                    var["type"]
                )));
            }
            let value = var.get("value").and_then(Value::as_str).unwrap_or_default();
            env.insert(name.to_string(), value.to_string());
        }
    }
    env.entry("PATH".to_string())
        .or_insert_with(|| DEFAULT_PATH.to_string());
    Ok(LaunchInfo {
        argv,
        env,
        working_directory: obj
            .get("working_directory")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(PathBuf::from),
        user: obj.get("user").and_then(Value::as_str).map(str::to_string),
    })
}

/// Pid of the started command, for the signal handler (0: not started yet).
static CHILD: AtomicI32 = AtomicI32::new(0);

extern "C" fn forward(sig: libc::c_int) {
    let pid = CHILD.load(Ordering::SeqCst);
    if pid > 0 {
        // SAFETY: kill is async-signal-safe.
        unsafe { libc::kill(pid, sig) };
    }
}

/// Unblocks every signal and restores SIGPIPE's default: the agent forks us from a thread
/// that blocks SIGTERM, and Rust programs ignore SIGPIPE; a child inherits both across exec,
/// and std's spawn resets neither, so a task would survive its SIGTERM.
pub fn reset_signals() {
    // SAFETY: plain sigprocmask/signal calls on a local empty set; async-signal-safe, so this
    // is also fine between fork and exec.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Every catchable signal goes to the command (SIGCHLD is ours).
fn install_forwarding() {
    for sig in 1..32 {
        if matches!(sig, libc::SIGKILL | libc::SIGSTOP | libc::SIGCHLD) {
            continue;
        }
        // SAFETY: installing a handler that only calls kill.
        unsafe { libc::signal(sig, forward as *const () as libc::sighandler_t) };
    }
}

/// How a launch ended, as the process exit code of `mesos-containerizer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The command ran; its raw wait status was written.
    Waited { wait_status: i32 },
    /// The agent died before the handshake (status 256 written).
    AgentGone,
}

impl Ended {
    /// The helper's own exit code: 0 after waiting, 1 when the agent was gone.
    pub fn exit_code(self) -> i32 {
        match self {
            Ended::Waited { .. } => 0,
            Ended::AgentGone => 1,
        }
    }
}

/// Performs `launch` with `flags` (steps 1-5 of the module docs).
pub fn launch(flags: &LaunchFlags) -> Result<Ended, LaunchError> {
    let mut status = match &flags.runtime_directory {
        Some(dir) => Some(
            std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o600)
                .custom_flags(libc::O_CLOEXEC)
                .open(dir.join("status"))
                .map_err(io(format!("opening {}", dir.join("status").display())))?,
        ),
        None => None,
    };
    reset_signals();
    install_forwarding();
    if let Some(w) = flags.pipe_write {
        // SAFETY: the fd is ours (inherited from the agent) and not used elsewhere.
        unsafe { libc::close(w) };
    }
    if let Some(r) = flags.pipe_read {
        let mut byte = 0u8;
        let n = loop {
            // SAFETY: reading one byte into a local.
            let n = unsafe { libc::read(r, &mut byte as *mut u8 as *mut libc::c_void, 1) };
            if n < 0 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            break n;
        };
        // SAFETY: closing our own fd.
        unsafe { libc::close(r) };
        if n < 0 {
            return Err(io("reading the handshake pipe")(
                std::io::Error::last_os_error(),
            ));
        }
        if n == 0 {
            if let Some(f) = status.as_mut() {
                let _ = f.write_all(b"256");
            }
            return Ok(Ended::AgentGone);
        }
    }
    let info = &flags.launch_info;
    if let Some(dir) = &info.working_directory {
        std::fs::create_dir_all(dir).map_err(io(format!("creating {}", dir.display())))?;
        std::env::set_current_dir(dir).map_err(io(format!("entering {}", dir.display())))?;
    }
    let mut cmd = std::process::Command::new(resolve(&info.argv[0], info.env.get("PATH")));
    cmd.arg0(&info.argv[0])
        .args(&info.argv[1..])
        .env_clear()
        .envs(&info.env);
    // SAFETY: reset_signals only makes async-signal-safe calls.
    unsafe {
        cmd.pre_exec(|| {
            reset_signals();
            Ok(())
        });
    }
    if let Some(user) = &info.user {
        let (uid, gid) = lookup_user(user)?;
        // SAFETY: geteuid has no preconditions.
        if uid != unsafe { libc::geteuid() } {
            cmd.uid(uid).gid(gid);
        }
    }
    let mut child = cmd
        .spawn()
        .map_err(io(format!("executing {:?}", info.argv)))?;
    CHILD.store(child.id() as i32, Ordering::SeqCst);
    let waited = child.wait().map_err(io("waiting for the command"))?;
    let raw = waited.into_raw();
    if let Some(f) = status.as_mut() {
        f.write_all(raw.to_string().as_bytes())
            .map_err(io("writing the status file"))?;
    }
    Ok(Ended::Waited { wait_status: raw })
}

/// uid and gid of `user` from the node's user database.
fn lookup_user(user: &str) -> Result<(u32, u32), LaunchError> {
    let invalid = |why: String| LaunchError::Invalid {
        name: "MESOS_CONTAINERIZER_LAUNCH_INFO",
        why,
    };
    let name = std::ffi::CString::new(user).map_err(|_| invalid(format!("user {user:?}")))?;
    // SAFETY: getpwnam with a valid C string; the result is read before any other call.
    let pw = unsafe { libc::getpwnam(name.as_ptr()) };
    if pw.is_null() {
        return Err(invalid(format!(
            "user {user:?} does not exist in this node"
        )));
    }
    // SAFETY: non-null result of getpwnam.
    Ok(unsafe { ((*pw).pw_uid, (*pw).pw_gid) })
}

/// `program` as exec would find it: a name without `/` is looked up in `path`.
fn resolve(program: &str, path: Option<&String>) -> OsString {
    if program.contains('/') {
        return program.into();
    }
    for dir in path.map(String::as_str).unwrap_or(DEFAULT_PATH).split(':') {
        let candidate = Path::new(dir).join(program);
        if candidate.is_file() {
            return candidate.into_os_string();
        }
    }
    program.into()
}

/// Every launch appends one line here when it ends: the helper's stderr is the sandbox's, which
/// is hard to reach once the agent destroyed a failed container.
pub const TRACE_FILE: &str = "/tmp/mesos-containerizer.trace";

fn trace(line: &str) {
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(TRACE_FILE)
    {
        let _ = writeln!(f, "pid {}: {line}", std::process::id());
    }
}

/// The whole program: `args` without argv[0]; returns the exit code.
pub fn main_with(args: &[String], vars: &BTreeMap<String, String>) -> i32 {
    if args.first().map(String::as_str) != Some("launch") {
        eprintln!("mesos-containerizer: {}", LaunchError::Usage);
        return 2;
    }
    let flags = match flags_from_env(vars) {
        Ok(f) => f,
        Err(e) => return refuse(vars, &e),
    };
    match launch(&flags) {
        Ok(ended) => {
            trace(&format!("{:?} ran {:?}", ended, flags.launch_info.argv));
            if ended == Ended::AgentGone {
                eprintln!("mesos-containerizer: the agent closed the pipe before the handshake (it died): not launching");
            }
            ended.exit_code()
        }
        Err(e) => refuse(vars, &e),
    }
}

/// Reports `e` and writes status 256 when possible, so the agent sees a failed launch.
fn refuse(vars: &BTreeMap<String, String>, e: &LaunchError) -> i32 {
    eprintln!("mesos-containerizer: failed to launch: {e}");
    trace(&format!("failed to launch: {e}"));
    if let Some(dir) = vars.get("MESOS_CONTAINERIZER_RUNTIME_DIRECTORY") {
        let _ = std::fs::write(Path::new(dir).join("status"), b"256");
    }
    1
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn info(v: Value) -> Result<LaunchInfo, LaunchError> {
        parse_launch_info(&v.to_string())
    }

    #[test]
    fn custom_executor_launch_info_as_agents_send_it() {
        let li = info(json!({
            "command": {"shell": false, "value": "/opt/upgrade-harness/executor-1.10.0",
                        "arguments": ["executor-1.10.0", "--build", "1.10.0"]},
            "environment": {"variables": [
                {"name": "MESOS_AGENT_ENDPOINT", "type": "VALUE", "value": "10.0.0.3:5051"},
                {"name": "MESOS_SANDBOX", "value": "/sb"}]},
            "task_environment": {},
            "working_directory": "/var/lib/mesos/agent/sb"
        }))
        .unwrap();
        assert_eq!(
            li.argv,
            ["/opt/upgrade-harness/executor-1.10.0", "--build", "1.10.0"]
        );
        assert_eq!(li.env["MESOS_AGENT_ENDPOINT"], "10.0.0.3:5051");
        assert_eq!(li.env["PATH"], DEFAULT_PATH);
        assert_eq!(li.env.len(), 3);
        assert_eq!(
            li.working_directory,
            Some(PathBuf::from("/var/lib/mesos/agent/sb"))
        );
        assert_eq!(li.user, None);
        let li = info(json!({"command": {"value": "x"}, "user": "root"})).unwrap();
        assert_eq!(li.user.as_deref(), Some("root"));
    }

    #[test]
    fn shell_commands_run_through_sh() {
        let li = info(json!({"command": {"shell": true, "value": "exit 3"}})).unwrap();
        assert_eq!(li.argv, ["sh", "-c", "exit 3"]);
        let li = info(json!({"command": {"value": "echo hi"}})).unwrap();
        assert_eq!(li.argv[0], "sh", "shell defaults to true as in CommandInfo");
    }

    #[test]
    fn unsupported_fields_are_refused_by_name() {
        for key in [
            "rlimits",
            "rootfs",
            "mounts",
            "pre_exec_commands",
            "capabilities",
        ] {
            let err = info(json!({"command": {"value": "x"}, key: ["something"]})).unwrap_err();
            assert!(
                err.to_string()
                    .starts_with(&format!("launch info field `{key}` is not supported")),
                "{err}"
            );
        }
        // Empty ones are harmless.
        info(json!({"command": {"value": "x"}, "rlimits": {}, "mounts": []})).unwrap();
        assert!(info(json!({"environment": {}}))
            .unwrap_err()
            .to_string()
            .contains("no `command`"));
        assert!(info(json!({"command": {"shell": false}})).is_err());
    }

    #[test]
    fn flags_come_from_the_environment() {
        let vars = BTreeMap::from([
            (
                "MESOS_CONTAINERIZER_LAUNCH_INFO".to_string(),
                json!({"command": {"value": "true"}}).to_string(),
            ),
            ("MESOS_CONTAINERIZER_PIPE_READ".to_string(), "7".to_string()),
            (
                "MESOS_CONTAINERIZER_PIPE_WRITE".to_string(),
                "8".to_string(),
            ),
            (
                "MESOS_CONTAINERIZER_RUNTIME_DIRECTORY".to_string(),
                "/var/run/mesos/containers/c1".to_string(),
            ),
        ]);
        let f = flags_from_env(&vars).unwrap();
        assert_eq!((f.pipe_read, f.pipe_write), (Some(7), Some(8)));
        assert_eq!(
            f.runtime_directory,
            Some(PathBuf::from("/var/run/mesos/containers/c1"))
        );
        let mut bad = vars.clone();
        bad.insert("MESOS_CONTAINERIZER_PIPE_READ".into(), "x".into());
        assert!(flags_from_env(&bad)
            .unwrap_err()
            .to_string()
            .starts_with("MESOS_CONTAINERIZER_PIPE_READ is not valid"));
        assert_eq!(
            flags_from_env(&BTreeMap::new()).unwrap_err().to_string(),
            "MESOS_CONTAINERIZER_LAUNCH_INFO is not set"
        );
    }
}
