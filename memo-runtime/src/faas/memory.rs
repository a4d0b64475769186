//! The memory the process may use: what `max_size = "10%"` and `FAAS_MEMO_BUDGET=40%` are
//! shares of.
//!
//! In order: the cgroup limit (v2 `memory.max`, v1 `memory.limit_in_bytes`, the smallest along
//! the process's cgroup and its ancestors), else `AWS_LAMBDA_FUNCTION_MEMORY_SIZE` (MiB), else
//! the machine's physical memory. A limit above the physical memory is capped there. A source
//! that is absent, unlimited or unreadable passes to the next (an unparsable one is logged).
//! Read once, the first time a share is resolved; tests give their own sources to
//! [`ProcessMemory::detect_from`], or fix the process's value with [`ProcessMemory::install`].

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::size::byte_size::ByteSize;

/// The environment variable that AWS Lambda sets to the function's memory size, in MiB.
pub(crate) const LAMBDA_MEMORY_ENV: &str = "AWS_LAMBDA_FUNCTION_MEMORY_SIZE";

/// cgroup v1 reports "no limit" as the largest page-aligned `i64`; anything this large is no
/// limit either.
const V1_UNLIMITED: u64 = 1 << 60;

/// Where [`ProcessMemory`] found the memory the process may use.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum MemorySource {
    /// A cgroup v2 `memory.max` file (its path).
    CgroupV2(String),
    /// A cgroup v1 `memory.limit_in_bytes` file (its path).
    CgroupV1(String),
    /// The `AWS_LAMBDA_FUNCTION_MEMORY_SIZE` environment variable.
    LambdaMemorySize,
    /// The machine's physical memory (`/proc/meminfo`, or `sysconf`).
    PhysicalMemory,
    /// Given by the program: [`ProcessMemory::new`].
    Given,
}

impl fmt::Display for MemorySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MemorySource::CgroupV2(path) => write!(f, "cgroup v2 {path}"),
            MemorySource::CgroupV1(path) => write!(f, "cgroup v1 {path}"),
            MemorySource::LambdaMemorySize => f.write_str(LAMBDA_MEMORY_ENV),
            MemorySource::PhysicalMemory => f.write_str("physical memory"),
            MemorySource::Given => f.write_str("given by the program"),
        }
    }
}

/// The memory the process may use, and where that figure comes from.
///
/// # Examples
///
/// ```
/// use memo_runtime::{MemorySource, ProcessMemory};
///
/// // What this process may use, read once (cgroup, then Lambda, then physical memory).
/// if let Some(memory) = memo_runtime::process_memory() {
///     println!("{memory}"); // e.g. "128M (cgroup v2 /sys/fs/cgroup/memory.max)"
/// }
/// let given = ProcessMemory::new(512 << 20);
/// assert_eq!((given.bytes(), given.source()), (512 << 20, &MemorySource::Given));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ProcessMemory {
    bytes: u64,
    source: MemorySource,
}

impl ProcessMemory {
    /// A figure given by the program ([`MemorySource::Given`]).
    pub fn new(bytes: u64) -> Self {
        ProcessMemory {
            bytes,
            source: MemorySource::Given,
        }
    }

    /// Bytes the process may use.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Where the figure comes from.
    pub fn source(&self) -> &MemorySource {
        &self.source
    }

    /// Reads this machine's sources ([`MemorySources::system`]). `None` only where none of
    /// them exists (no cgroup limit, no Lambda variable, and a system whose physical memory
    /// is not known: not Linux nor another Unix).
    pub fn detect() -> Option<Self> {
        Self::detect_from(&MemorySources::system())
    }

    /// Reads the given sources, in order: cgroup v2, cgroup v1, the Lambda variable, physical
    /// memory. A cgroup limit or Lambda size above the physical memory is capped there.
    ///
    /// # Examples
    ///
    /// ```
    /// use memo_runtime::{MemorySource, MemorySources, ProcessMemory};
    ///
    /// // No /proc here: the Lambda variable, then the physical memory given.
    /// let mut sources = MemorySources::at("/nonexistent");
    /// sources.lambda_memory_size = Some("1024".to_owned());
    /// sources.physical_bytes = Some(4 << 30);
    /// let memory = ProcessMemory::detect_from(&sources).unwrap();
    /// assert_eq!(memory.bytes(), 1 << 30);
    /// assert_eq!(memory.source(), &MemorySource::LambdaMemorySize);
    ///
    /// sources.lambda_memory_size = Some("lots".to_owned()); // unparsable: logged, skipped
    /// let memory = ProcessMemory::detect_from(&sources).unwrap();
    /// assert_eq!(memory.source(), &MemorySource::PhysicalMemory);
    /// ```
    pub fn detect_from(sources: &MemorySources) -> Option<Self> {
        let physical = physical_memory(sources).map(|bytes| ProcessMemory {
            bytes,
            source: MemorySource::PhysicalMemory,
        });
        let limit = cgroup_limit(sources).or_else(|| lambda_memory(sources));
        match (limit, physical) {
            (Some(limit), Some(physical)) if physical.bytes < limit.bytes => {
                log::debug!("faas-memo: {limit} is above the physical memory, {physical}");
                Some(physical)
            }
            (Some(limit), _) => Some(limit),
            (None, physical) => physical,
        }
    }

    /// Makes `self` the process's memory for every share resolved from now on, instead of
    /// what [`process_memory`] would read. Call it before any store with a share is built.
    ///
    /// # Errors
    ///
    /// `Err(self)` when the process's memory was already read or installed (see
    /// [`process_memory`] for the value in force).
    pub fn install(self) -> Result<(), ProcessMemory> {
        let mut offered = Some(self);
        PROCESS_MEMORY.get_or_init(|| offered.take());
        match offered {
            None => Ok(()),
            Some(refused) => Err(refused),
        }
    }
}

impl fmt::Display for ProcessMemory {
    /// `128M (cgroup v2 /sys/fs/cgroup/memory.max)`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", ByteSize::from(self.bytes), self.source)
    }
}

static PROCESS_MEMORY: OnceLock<Option<ProcessMemory>> = OnceLock::new();

/// The memory this process may use, read from this machine's sources the first time it is
/// asked for (or what [`ProcessMemory::install`] gave), then the same for the life of the
/// process. `None` where no source exists (see [`ProcessMemory::detect`]).
pub fn process_memory() -> Option<ProcessMemory> {
    PROCESS_MEMORY
        .get_or_init(|| {
            let detected = ProcessMemory::detect();
            match &detected {
                Some(memory) => log::debug!("faas-memo: the process may use {memory}"),
                None => log::warn!(
                    "faas-memo: the memory this process may use is unknown (no cgroup limit, \
                     no {LAMBDA_MEMORY_ENV}, no physical memory reading): sizes given as a \
                     percentage cannot be resolved"
                ),
            }
            detected
        })
        .clone()
}

/// Where [`ProcessMemory::detect_from`] reads. Tests point `root` at a directory laid out like
/// `/` (`proc/self/cgroup`, `proc/self/mountinfo`, `proc/meminfo` and the cgroup files under
/// the mount points that `mountinfo` names).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MemorySources {
    /// The directory that stands for `/`.
    pub root: PathBuf,
    /// The value of `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`, if set.
    pub lambda_memory_size: Option<String>,
    /// Physical memory known otherwise than from `<root>/proc/meminfo` (which comes first).
    pub physical_bytes: Option<u64>,
}

impl MemorySources {
    /// This machine: `/`, the process's environment, and `sysconf` on Unix.
    pub fn system() -> Self {
        MemorySources {
            root: PathBuf::from("/"),
            lambda_memory_size: std::env::var(LAMBDA_MEMORY_ENV).ok(),
            physical_bytes: sysconf_physical_memory(),
        }
    }

    /// Files under `root` only: no environment variable, no `sysconf`.
    pub fn at(root: impl Into<PathBuf>) -> Self {
        MemorySources {
            root: root.into(),
            lambda_memory_size: None,
            physical_bytes: None,
        }
    }

    /// `path` (absolute, as the system names it) under `root`.
    fn file(&self, path: &str) -> PathBuf {
        self.root.join(path.trim_start_matches('/'))
    }

    fn read(&self, path: &str) -> Option<String> {
        std::fs::read_to_string(self.file(path)).ok()
    }
}

#[cfg(all(unix, not(miri)))]
fn sysconf_physical_memory() -> Option<u64> {
    // SAFETY: sysconf has no preconditions.
    let (pages, page_size) = unsafe {
        (
            libc::sysconf(libc::_SC_PHYS_PAGES),
            libc::sysconf(libc::_SC_PAGESIZE),
        )
    };
    let pages = u64::try_from(pages).ok()?;
    let page_size = u64::try_from(page_size).ok()?;
    pages.checked_mul(page_size).filter(|&b| b > 0)
}

#[cfg(any(not(unix), miri))]
fn sysconf_physical_memory() -> Option<u64> {
    None
}

/// `MemTotal` of `<root>/proc/meminfo`, else what the sources were given.
fn physical_memory(sources: &MemorySources) -> Option<u64> {
    let from_meminfo = sources.read("/proc/meminfo").and_then(|meminfo| {
        let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
        let mut fields = line["MemTotal:".len()..].split_whitespace();
        let kib: u64 = fields.next()?.parse().ok()?;
        (fields.next() == Some("kB")).then(|| kib.saturating_mul(1024))
    });
    from_meminfo.or(sources.physical_bytes).filter(|&b| b > 0)
}

/// `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`, in MiB.
fn lambda_memory(sources: &MemorySources) -> Option<ProcessMemory> {
    let value = sources.lambda_memory_size.as_deref()?;
    match value.trim().parse::<u64>() {
        Ok(mib) if mib > 0 && mib < (1 << 44) => Some(ProcessMemory {
            bytes: mib << 20,
            source: MemorySource::LambdaMemorySize,
        }),
        _ => {
            log::warn!("faas-memo: {LAMBDA_MEMORY_ENV}={value:?} is not a number of MiB; ignored");
            None
        }
    }
}

/// The cgroup limit: v2 first, then v1.
fn cgroup_limit(sources: &MemorySources) -> Option<ProcessMemory> {
    let cgroups = sources.read("/proc/self/cgroup")?;
    let mounts = sources.read("/proc/self/mountinfo")?;
    let mounts: Vec<Mount> = mounts.lines().filter_map(Mount::parse).collect();
    let v2 = cgroups
        .lines()
        .find_map(|l| l.strip_prefix("0::"))
        .and_then(|path| {
            let mount = mounts.iter().find(|m| m.fstype == "cgroup2")?;
            smallest_limit(sources, mount, path, "memory.max", parse_v2)
                .map(|(bytes, file)| (bytes, MemorySource::CgroupV2(file)))
        });
    let v1 = || {
        let path = cgroups.lines().find_map(|line| {
            let mut parts = line.splitn(3, ':');
            let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
            controllers
                .split(',')
                .any(|c| c == "memory")
                .then_some(path)
        })?;
        let mount = mounts
            .iter()
            .find(|m| m.fstype == "cgroup" && m.options.split(',').any(|o| o == "memory"))?;
        smallest_limit(sources, mount, path, "memory.limit_in_bytes", parse_v1)
            .map(|(bytes, file)| (bytes, MemorySource::CgroupV1(file)))
    };
    let (bytes, source) = v2.or_else(v1)?;
    Some(ProcessMemory { bytes, source })
}

/// What a limit file holds: a limit, no limit, or something unexpected.
enum Limit {
    Bytes(u64),
    Unlimited,
    Unparsable,
}

fn parse_v2(text: &str) -> Limit {
    match text.trim() {
        "max" => Limit::Unlimited,
        n => n.parse().map_or(Limit::Unparsable, Limit::Bytes),
    }
}

fn parse_v1(text: &str) -> Limit {
    match text.trim().parse::<u64>() {
        Ok(n) if n >= V1_UNLIMITED => Limit::Unlimited,
        Ok(n) => Limit::Bytes(n),
        Err(_) => Limit::Unparsable,
    }
}

/// The smallest limit set on the cgroup `path` or an ancestor up to the mount's root (a
/// parent's limit binds its children), and the file that set it.
fn smallest_limit(
    sources: &MemorySources,
    mount: &Mount,
    path: &str,
    file_name: &str,
    parse: fn(&str) -> Limit,
) -> Option<(u64, String)> {
    // The cgroup's directory: its path relative to the mount's root, under the mount point.
    // Without a shared prefix (a cgroup namespace shows "/"), the mount point itself.
    let relative = path
        .strip_prefix(mount.root.as_str())
        .unwrap_or("")
        .trim_start_matches('/');
    let mount_point = Path::new(&mount.mount_point);
    let mut dir = mount_point.join(relative);
    let mut best: Option<(u64, String)> = None;
    loop {
        let file = dir.join(file_name);
        let shown = file.to_string_lossy().into_owned();
        if let Some(text) = sources.read(&shown) {
            match parse(&text) {
                Limit::Bytes(bytes) if bytes > 0 => {
                    if best.as_ref().is_none_or(|(b, _)| bytes < *b) {
                        best = Some((bytes, shown));
                    }
                }
                Limit::Bytes(_) | Limit::Unlimited => {}
                Limit::Unparsable => log::warn!(
                    "faas-memo: {shown} holds {:?}, not a number of bytes; ignored",
                    text.trim()
                ),
            }
        }
        if dir == mount_point || !dir.pop() {
            return best;
        }
    }
}

/// One line of `/proc/self/mountinfo` (proc(5)): the fields we need.
struct Mount {
    root: String,
    mount_point: String,
    fstype: String,
    /// Super options: cgroup v1 lists its controllers there.
    options: String,
}

impl Mount {
    fn parse(line: &str) -> Option<Mount> {
        let (before, after) = line.split_once(" - ")?;
        let mut before = before.split(' ');
        let (_id, _parent, _device) = (before.next()?, before.next()?, before.next()?);
        let root = unescape(before.next()?);
        let mount_point = unescape(before.next()?);
        let mut after = after.split(' ');
        let fstype = after.next()?.to_owned();
        let _source = after.next()?;
        let options = after.next().unwrap_or("").to_owned();
        Some(Mount {
            root,
            mount_point,
            fstype,
            options,
        })
    }
}

/// Undoes mountinfo's octal escapes (`\040` for a space).
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes
            .get(i + 1..i + 4)
            .filter(|d| bytes[i] == b'\\' && d.iter().all(|b| (b'0'..=b'7').contains(b)));
        match octal {
            Some(d) => {
                out.push((d[0] - b'0') * 64 + (d[1] - b'0') * 8 + (d[2] - b'0'));
                i += 4;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake `/` with the given files.
    struct FakeRoot(PathBuf);

    impl FakeRoot {
        fn new(files: &[(&str, &str)]) -> FakeRoot {
            use std::sync::atomic::{AtomicU32, Ordering};
            static NEXT: AtomicU32 = AtomicU32::new(0);
            let dir = std::env::temp_dir().join(format!(
                "faas-memo-memory-{}-{}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            ));
            for (path, text) in files {
                let file = dir.join(path.trim_start_matches('/'));
                std::fs::create_dir_all(file.parent().unwrap()).unwrap();
                std::fs::write(file, text).unwrap();
            }
            std::fs::create_dir_all(&dir).unwrap();
            FakeRoot(dir)
        }

        fn sources(&self) -> MemorySources {
            MemorySources::at(&self.0)
        }
    }

    impl Drop for FakeRoot {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    const MEMINFO: (&str, &str) = (
        "/proc/meminfo",
        "MemTotal:       24683784 kB\nMemFree:         1000 kB\n",
    );
    const PHYSICAL: u64 = 24_683_784 * 1024;
    const V2_MOUNT: &str =
        "30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate\n";
    const V1_MOUNTS: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 31 0:33 / /sys/fs/cgroup/cpu\\040set rw,relatime - cgroup cgroup rw,cpuset
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";

    fn detect(root: &FakeRoot) -> ProcessMemory {
        ProcessMemory::detect_from(&root.sources()).expect("some source")
    }

    #[test]
    fn cgroup_v2_memory_max_of_the_process_cgroup() {
        let root = FakeRoot::new(&[
            ("/proc/self/cgroup", "0::/lambda/function\n"),
            ("/proc/self/mountinfo", V2_MOUNT),
            ("/sys/fs/cgroup/lambda/function/memory.max", "134217728\n"),
            ("/sys/fs/cgroup/lambda/memory.max", "max\n"),
            MEMINFO,
        ]);
        let memory = detect(&root);
        assert_eq!(memory.bytes(), 128 << 20);
        let file = "/sys/fs/cgroup/lambda/function/memory.max".to_owned();
        assert_eq!(memory.source(), &MemorySource::CgroupV2(file.clone()));
        assert_eq!(memory.to_string(), format!("128M (cgroup v2 {file})"));
    }

    #[test]
    fn a_parent_cgroup_limit_binds_the_child() {
        let root = FakeRoot::new(&[
            ("/proc/self/cgroup", "0::/pod/container\n"),
            ("/proc/self/mountinfo", V2_MOUNT),
            ("/sys/fs/cgroup/pod/container/memory.max", "max\n"),
            ("/sys/fs/cgroup/pod/memory.max", "268435456\n"),
            MEMINFO,
        ]);
        let memory = detect(&root);
        assert_eq!(memory.bytes(), 256 << 20);
        let file = "/sys/fs/cgroup/pod/memory.max".to_owned();
        assert_eq!(memory.source(), &MemorySource::CgroupV2(file));
    }

    #[test]
    fn a_cgroup_namespace_reads_the_mount_point() {
        // Inside a container with its own cgroup namespace the process's cgroup is "/".
        let root = FakeRoot::new(&[
            ("/proc/self/cgroup", "0::/\n"),
            ("/proc/self/mountinfo", V2_MOUNT),
            ("/sys/fs/cgroup/memory.max", "536870912"),
            MEMINFO,
        ]);
        assert_eq!(detect(&root).bytes(), 512 << 20);
    }

    #[test]
    fn cgroup_v1_when_v2_has_no_memory_controller() {
        // Hybrid layout (this project's CI host): v2 is mounted without memory.max.
        let root = FakeRoot::new(&[
            (
                "/proc/self/cgroup",
                "9:name=systemd:/\n4:memory:/process_api/abc\n3:cpuset:/\n0::/\n",
            ),
            ("/proc/self/mountinfo", V1_MOUNTS),
            (
                "/sys/fs/cgroup/memory/process_api/abc/memory.limit_in_bytes",
                "1073741824\n",
            ),
            (
                "/sys/fs/cgroup/memory/memory.limit_in_bytes",
                "9223372036854771712\n",
            ),
            MEMINFO,
        ]);
        let memory = detect(&root);
        assert_eq!(memory.bytes(), 1 << 30);
        let file = "/sys/fs/cgroup/memory/process_api/abc/memory.limit_in_bytes".to_owned();
        assert_eq!(memory.source(), &MemorySource::CgroupV1(file));
    }

    #[test]
    fn unlimited_cgroups_fall_back_to_lambda_then_physical_memory() {
        let files = [
            ("/proc/self/cgroup", "4:memory:/process_api/abc\n0::/\n"),
            ("/proc/self/mountinfo", V1_MOUNTS),
            (
                "/sys/fs/cgroup/memory/process_api/abc/memory.limit_in_bytes",
                "9223372036854771712\n",
            ),
            MEMINFO,
        ];
        let root = FakeRoot::new(&files);
        let mut sources = root.sources();
        sources.lambda_memory_size = Some("512".to_owned());
        let memory = ProcessMemory::detect_from(&sources).unwrap();
        assert_eq!(memory.bytes(), 512 << 20);
        assert_eq!(memory.source(), &MemorySource::LambdaMemorySize);
        sources.lambda_memory_size = None;
        let memory = ProcessMemory::detect_from(&sources).unwrap();
        assert_eq!(memory.bytes(), PHYSICAL);
        assert_eq!(memory.source(), &MemorySource::PhysicalMemory);
        assert_eq!(
            memory.to_string(),
            format!("{} (physical memory)", ByteSize::from(PHYSICAL))
        );
    }

    #[test]
    fn unparsable_sources_fall_back_in_order() {
        let root = FakeRoot::new(&[
            ("/proc/self/cgroup", "0::/fn\n"),
            ("/proc/self/mountinfo", V2_MOUNT),
            ("/sys/fs/cgroup/fn/memory.max", "lots\n"),
            MEMINFO,
        ]);
        let mut sources = root.sources();
        sources.lambda_memory_size = Some("2048".to_owned());
        assert_eq!(
            ProcessMemory::detect_from(&sources).unwrap().source(),
            &MemorySource::LambdaMemorySize
        );
        for bad in ["", "-1", "0", "1.5", "2G", "99999999999999999999"] {
            sources.lambda_memory_size = Some(bad.to_owned());
            let memory = ProcessMemory::detect_from(&sources).unwrap();
            assert_eq!(memory.source(), &MemorySource::PhysicalMemory, "{bad:?}");
        }
    }

    #[test]
    fn a_limit_above_the_physical_memory_is_capped() {
        let root = FakeRoot::new(&[
            ("/proc/self/cgroup", "0::/\n"),
            ("/proc/self/mountinfo", V2_MOUNT),
            ("/sys/fs/cgroup/memory.max", "107374182400\n"),
            MEMINFO,
        ]);
        let memory = detect(&root);
        assert_eq!(
            (memory.bytes(), memory.source()),
            (PHYSICAL, &MemorySource::PhysicalMemory)
        );
    }

    #[test]
    fn nothing_readable_is_none_and_given_physical_memory_is_last() {
        let root = FakeRoot::new(&[("/proc/self/cgroup", "garbage")]);
        let mut sources = root.sources();
        assert_eq!(ProcessMemory::detect_from(&sources), None);
        sources.physical_bytes = Some(8 << 30);
        let memory = ProcessMemory::detect_from(&sources).unwrap();
        assert_eq!(memory.bytes(), 8 << 30);
    }

    #[test]
    fn mountinfo_fields_and_escapes() {
        let mount = Mount::parse(
            "36 31 0:33 /a\\040b /sys/fs/cgroup/cpu\\040set rw,relatime shared:1 master:2 - cgroup cgroup rw,cpuset",
        )
        .unwrap();
        assert_eq!(mount.root, "/a b");
        assert_eq!(mount.mount_point, "/sys/fs/cgroup/cpu set");
        assert_eq!(
            (mount.fstype.as_str(), mount.options.as_str()),
            ("cgroup", "rw,cpuset")
        );
        assert!(Mount::parse("no separator here").is_none());
        assert_eq!(unescape("\\1"), "\\1");
    }

    /// This machine: whatever it is, detection finds something on Linux and never panics.
    #[test]
    #[cfg(target_os = "linux")]
    #[cfg_attr(miri, ignore = "reads /proc and calls sysconf")]
    fn this_machine_has_a_figure() {
        let memory = ProcessMemory::detect().expect("Linux has /proc/meminfo");
        assert!(memory.bytes() > 0);
    }
}
