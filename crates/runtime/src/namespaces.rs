//! Which namespaces a container gets: new ones (clone flags) and ones it
//! joins by path (setns).

use std::fs::File;
use std::os::fd::AsFd;
use std::path::PathBuf;

use nix::sched::{setns, CloneFlags};
use oci_spec::runtime::{LinuxNamespaceType, Spec};

use crate::error::{Context, Error, Result};

/// The namespace setup of one container process.
#[derive(Debug, Clone)]
pub struct NamespacePlan {
    /// Namespaces to create when cloning the init (cgroup excluded: it is
    /// unshared after the init has joined its cgroup).
    pub clone_flags: CloneFlags,
    /// Whether to unshare a cgroup namespace once inside the cgroup.
    pub new_cgroupns: bool,
    /// Existing namespaces to join, in the order to join them.
    pub joins: Vec<(LinuxNamespaceType, PathBuf)>,
}

impl NamespacePlan {
    /// Reads the plan from `linux.namespaces`.
    pub fn from_spec(spec: &Spec) -> Result<Self> {
        let mut plan = NamespacePlan {
            clone_flags: CloneFlags::empty(),
            new_cgroupns: false,
            joins: Vec::new(),
        };
        let namespaces = spec
            .linux()
            .as_ref()
            .and_then(|l| l.namespaces().clone())
            .unwrap_or_default();
        for ns in namespaces {
            match ns.path() {
                Some(path) if !path.as_os_str().is_empty() => {
                    plan.joins.push((ns.typ(), path.clone()));
                }
                _ if ns.typ() == LinuxNamespaceType::Cgroup => plan.new_cgroupns = true,
                _ => plan.clone_flags |= clone_flag(ns.typ()),
            }
        }
        // A user namespace must be joined first: it grants the rights to join the rest.
        plan.joins.sort_by_key(|(t, _)| {
            (
                *t != LinuxNamespaceType::User,
                *t == LinuxNamespaceType::Mount,
            )
        });
        if spec.hostname().is_some() && !plan.has(LinuxNamespaceType::Uts) {
            return Err(Error::Spec(
                "unable to set hostname without a private UTS namespace".into(),
            ));
        }
        Ok(plan)
    }

    /// The plan for entering every namespace of a running container's init.
    pub fn join_all_of(spec: &Spec, pid: i32) -> Self {
        let mut types: Vec<LinuxNamespaceType> = spec
            .linux()
            .as_ref()
            .and_then(|l| l.namespaces().clone())
            .unwrap_or_default()
            .iter()
            .map(|n| n.typ())
            .collect();
        types.sort_by_key(|t| {
            (
                *t != LinuxNamespaceType::User,
                *t == LinuxNamespaceType::Mount,
            )
        });
        NamespacePlan {
            clone_flags: CloneFlags::empty(),
            new_cgroupns: false,
            joins: types
                .into_iter()
                .map(|t| (t, PathBuf::from(format!("/proc/{pid}/ns/{}", proc_name(t)))))
                .collect(),
        }
    }

    /// Whether the container gets (new or joined) a namespace of type `t`.
    pub fn has(&self, t: LinuxNamespaceType) -> bool {
        (t == LinuxNamespaceType::Cgroup && self.new_cgroupns)
            || self.clone_flags.contains(clone_flag(t))
            || self.joins.iter().any(|(j, _)| *j == t)
    }

    /// Whether a new user namespace is created (uid/gid maps to write).
    pub fn new_userns(&self) -> bool {
        self.clone_flags.contains(CloneFlags::CLONE_NEWUSER)
    }

    /// Joins every namespace in `joins`. Files are opened before the first
    /// setns, since entering a mount namespace changes what paths mean.
    pub fn join(&self) -> Result<()> {
        let files = self
            .joins
            .iter()
            .map(|(t, p)| {
                File::open(p)
                    .map(|f| (*t, f))
                    .context_with(|| format!("open namespace {}", p.display()))
            })
            .collect::<Result<Vec<_>>>()?;
        for (t, f) in files {
            setns(f.as_fd(), clone_flag(t))
                .context_with(|| format!("join {} namespace", proc_name(t)))?;
        }
        Ok(())
    }
}

/// The clone(2) flag of a namespace type.
pub fn clone_flag(t: LinuxNamespaceType) -> CloneFlags {
    CloneFlags::from_bits_retain(t as i32)
}

/// The name of a namespace under /proc/<pid>/ns.
pub fn proc_name(t: LinuxNamespaceType) -> &'static str {
    match t {
        LinuxNamespaceType::Mount => "mnt",
        LinuxNamespaceType::Cgroup => "cgroup",
        LinuxNamespaceType::Uts => "uts",
        LinuxNamespaceType::Ipc => "ipc",
        LinuxNamespaceType::User => "user",
        LinuxNamespaceType::Pid => "pid",
        LinuxNamespaceType::Network => "net",
        LinuxNamespaceType::Time => "time",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oci_spec::runtime::{LinuxBuilder, LinuxNamespaceBuilder, SpecBuilder};

    fn spec_with(ns: Vec<(LinuxNamespaceType, Option<&str>)>) -> Spec {
        let namespaces = ns
            .into_iter()
            .map(|(t, p)| {
                let b = LinuxNamespaceBuilder::default().typ(t);
                match p {
                    Some(p) => b.path(p).build().unwrap(),
                    None => b.build().unwrap(),
                }
            })
            .collect::<Vec<_>>();
        let linux = LinuxBuilder::default()
            .namespaces(namespaces)
            .build()
            .unwrap();
        let mut spec = SpecBuilder::default().linux(linux).build().unwrap();
        spec.set_hostname(None);
        spec
    }

    #[test]
    fn splits_new_joined_and_cgroup() {
        let spec = spec_with(vec![
            (LinuxNamespaceType::Pid, None),
            (LinuxNamespaceType::Mount, None),
            (LinuxNamespaceType::Cgroup, None),
            (LinuxNamespaceType::Network, Some("/proc/1/ns/net")),
            (LinuxNamespaceType::User, Some("/proc/1/ns/user")),
        ]);
        let plan = NamespacePlan::from_spec(&spec).unwrap();
        assert_eq!(
            plan.clone_flags,
            CloneFlags::CLONE_NEWPID | CloneFlags::CLONE_NEWNS
        );
        assert!(plan.new_cgroupns);
        assert_eq!(plan.joins[0].0, LinuxNamespaceType::User);
        assert!(plan.has(LinuxNamespaceType::Network));
        assert!(!plan.has(LinuxNamespaceType::Uts));
    }

    #[test]
    fn hostname_needs_uts() {
        let mut spec = spec_with(vec![(LinuxNamespaceType::Pid, None)]);
        spec.set_hostname(Some("x".into()));
        let err = NamespacePlan::from_spec(&spec).unwrap_err().to_string();
        assert!(err.contains("UTS"), "{err}");
    }
}
