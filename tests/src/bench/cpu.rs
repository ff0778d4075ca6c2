//! Where the CPU went during a run, without a profiler (perf is not installed here): the
//! user and system time of this process's threads, grouped by name, and of the run's other
//! processes (the PostgreSQL cluster's, nginx), from Linux `/proc`.

use std::time::Duration;

use super::Deployment;

/// CPU time so far (user + system), by thread or process, for [`cpu_report`].
pub struct CpuSample {
    /// This process's threads: id, group, seconds.
    threads: Vec<(String, &'static str, f64)>,
    /// This process in all (its exited threads too).
    process: f64,
    /// The other processes of the run: group, seconds.
    others: Vec<(String, f64)>,
}

/// User + system seconds from a `/proc/.../stat` line.
fn stat_seconds(stat: &str) -> Option<f64> {
    // The fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let user: f64 = fields.get(11)?.parse().ok()?;
    let system: f64 = fields.get(12)?.parse().ok()?;
    // USER_HZ is 100 on every Linux this runs on.
    Some((user + system) / 100.0)
}

/// Samples the CPU time of this process's threads (grouped by name: the servers' tokio
/// workers, the PostgreSQL store's connection threads, the rest) and of `processes` (the
/// cluster's and nginx's, from [`Deployment::processes`]). Linux `/proc`.
pub fn cpu_sample(processes: &[(String, u32)]) -> CpuSample {
    let mut threads = Vec::new();
    if let Ok(tasks) = std::fs::read_dir("/proc/self/task") {
        for task in tasks.flatten() {
            let path = task.path();
            let name = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
            let group = match name.trim() {
                n if n.starts_with("tokio-") || n.starts_with("cityauth-server") => {
                    "servers (request handlers)"
                }
                n if n.starts_with("sqlite") => "servers (request handlers)",
                n if n.starts_with("cityauth-pg") => "PostgreSQL store bridge (connection threads)",
                _ => "simulated clients",
            };
            if let Some(seconds) = std::fs::read_to_string(path.join("stat"))
                .ok()
                .and_then(|stat| stat_seconds(&stat))
            {
                threads.push((
                    task.file_name().to_string_lossy().into_owned(),
                    group,
                    seconds,
                ));
            }
        }
    }
    let read = |path: String| {
        std::fs::read_to_string(path)
            .ok()
            .and_then(|stat| stat_seconds(&stat))
            .unwrap_or(0.0)
    };
    CpuSample {
        threads,
        process: read("/proc/self/stat".into()),
        others: processes
            .iter()
            .map(|(group, pid)| (group.clone(), read(format!("/proc/{pid}/stat"))))
            .collect(),
    }
}

/// The CPU spent between two samples, one line per group with its share. A thread that
/// started in between counts from zero; the time of threads that ended in between (tokio
/// hands a blocked worker's duties to new threads) is in "threads that ended", from the
/// process's own total.
pub fn cpu_report(before: &CpuSample, after: &CpuSample, wall: Duration) -> String {
    let mut groups: std::collections::BTreeMap<String, f64> = std::collections::BTreeMap::new();
    let mut attributed = 0.0;
    for (tid, group, seconds) in &after.threads {
        let earlier = before
            .threads
            .iter()
            .find(|(t, _, _)| t == tid)
            .map_or(0.0, |(_, _, s)| *s);
        *groups.entry((*group).to_owned()).or_insert(0.0) += seconds - earlier;
        attributed += seconds - earlier;
    }
    let ended = (after.process - before.process - attributed).max(0.0);
    if ended >= 0.05 {
        groups.insert("this process's threads that ended".into(), ended);
    }
    for ((group, seconds), (_, earlier)) in after.others.iter().zip(&before.others) {
        *groups.entry(group.clone()).or_insert(0.0) += seconds - earlier;
    }
    let total: f64 = groups.values().sum();
    let mut out = format!(
        "CPU in {:.1} s on {} cores: {:.1} s in all\n",
        wall.as_secs_f64(),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        total
    );
    for (group, seconds) in groups {
        out.push_str(&format!(
            "    {group}: {seconds:.1} s ({:.0} %)\n",
            100.0 * seconds / total.max(0.01)
        ));
    }
    out
}

impl Deployment {
    /// The PostgreSQL and nginx processes of the run, for [`cpu_sample`]: the cluster's
    /// postmaster and every process it has now, and nginx (a child of this process).
    pub fn processes(&self) -> Vec<(String, u32)> {
        let mut processes = Vec::new();
        if let Some((cluster, name)) = &self.postgres
            && let Ok(pids) = cluster.psql(
                name,
                "SELECT pid FROM pg_stat_activity WHERE pid <> pg_backend_pid()",
            )
        {
            let pids: Vec<u32> = pids.lines().filter_map(|p| p.trim().parse().ok()).collect();
            // The postmaster: the parent of its backends.
            let parent = pids.first().and_then(|pid| {
                let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
                stat.rsplit_once(')')?
                    .1
                    .split_whitespace()
                    .nth(1)?
                    .parse()
                    .ok()
            });
            for pid in pids.into_iter().chain(parent) {
                processes.push(("PostgreSQL".to_owned(), pid));
            }
        }
        if self.proxy.is_some()
            && let Ok(entries) = std::fs::read_dir("/proc")
        {
            let me = std::process::id().to_string();
            for entry in entries.flatten() {
                let path = entry.path();
                let comm = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
                let parent = std::fs::read_to_string(path.join("stat"))
                    .ok()
                    .and_then(|s| {
                        Some(s.rsplit_once(')')?.1.split_whitespace().nth(1)?.to_owned())
                    });
                if comm.trim() == "nginx"
                    && parent.as_deref() == Some(me.as_str())
                    && let Some(pid) = entry.file_name().to_str().and_then(|p| p.parse().ok())
                {
                    processes.push(("nginx".to_owned(), pid));
                }
            }
        }
        processes
    }
}
