//! What PE's analytics collect, per PE version: every item of PE's own
//! "Analytics data collection" pages, with the version that added it (and
//! removed it), when PE sends it, and where PE keeps what it sends.
//!
//! The sources are the pages of PE's manuals kept in the public repository
//! github.com/puppetlabs/docs-archive ([`PAGES`]: one entry per range of
//! versions with the same list). A line a page repeats is one item here: the
//! 2018.1–2021.5 pages list the job attributes (how nodes were selected,
//! started by the admin account, number of nodes, length of description)
//! once for task jobs and once for deploy jobs, the 2021.7 page once for all
//! jobs. "Agent operating systems" and "Number of agents running each
//! operating system" are one item (`agent_os`: the count per OS), as are the
//! agent versions and their counts. Wording is the 2021.7 page's.

/// A PE version's `YEAR.RELEASE`, which is what the pages change with.
pub type Release = (u16, u16);

/// One of PE's pages and the first release it describes; it holds until the
/// next entry's release.
#[derive(Debug)]
pub struct Page {
    pub from: Release,
    /// Paths in github.com/puppetlabs/docs-archive; several when the same
    /// list is in several manuals.
    pub paths: &'static [&'static str],
}

/// PE's analytics pages, oldest first. The first is PE 2016.4's, the release
/// that introduced the opt-out; the last readable one is PE 2021.7.1's (the
/// archive's later manuals, 2021.7.2 on and 2023.x, are stored without
/// their content), so it stands for every later release too.
pub const PAGES: &[Page] = &[
    Page {
        from: (2016, 4),
        paths: &[
            "pe/2016.4/analytics_opt_out.markdown",
            "pe/2016.5/analytics_opt_out.markdown",
        ],
    },
    Page {
        from: (2017, 1),
        paths: &["pe/2017.1/analytics_opt_out.markdown"],
    },
    Page {
        from: (2017, 2),
        paths: &[
            "pe/2017.2/analytics_opt_out.markdown",
            "pe/2017.3/analytics_overview.md",
        ],
    },
    Page {
        from: (2018, 1),
        paths: &["pe/2018.1/2018.1_markdown/analytics_overview.md"],
    },
    Page {
        from: (2019, 0),
        paths: &["pe/2019.0/analytics_overview.md"],
    },
    Page {
        from: (2019, 1),
        paths: &["pe/2019.1/2019.1_markdown/analytics_overview.md"],
    },
    Page {
        from: (2019, 2),
        paths: &[
            "pe/2019.2/analytics_overview.md",
            "pe/2019.4/analytics_overview.md",
            "pe/2019.5/analytics_overview.md",
            "pe/2019.7/markdown/analytics_overview.md",
        ],
    },
    Page {
        from: (2019, 8),
        paths: &[
            "pe/2019.8/PE 2019.8.1.pdf",
            "pe/2019.8/PE 2019.8.10.pdf",
            "pe/2021/PE 2021.0.pdf",
            "pe/2021/PE 2021.5.pdf",
        ],
    },
    Page {
        from: (2021, 7),
        paths: &["pe/2021/PE 2021.7.1.pdf"],
    },
];

/// The page that describes `release` (the first one for older releases).
pub fn page_for(release: Release) -> &'static Page {
    PAGES
        .iter()
        .rev()
        .find(|p| p.from <= release)
        .unwrap_or(&PAGES[0])
}

/// The groups of PE's pages, in their order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Section {
    Server,
    Features,
    BackupRestore,
    Performance,
    Installer,
    AwsMarketplace,
    Console,
    NotCollected,
}

impl Section {
    pub const ALL: [Section; 8] = [
        Section::Server,
        Section::Features,
        Section::BackupRestore,
        Section::Performance,
        Section::Installer,
        Section::AwsMarketplace,
        Section::Console,
        Section::NotCollected,
    ];

    /// The JSON id (a contract).
    pub fn id(self) -> &'static str {
        match self {
            Section::Server => "server",
            Section::Features => "features",
            Section::BackupRestore => "backup-restore",
            Section::Performance => "performance",
            Section::Installer => "installer",
            Section::AwsMarketplace => "aws-marketplace",
            Section::Console => "console",
            Section::NotCollected => "not-collected",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Section::Server => "License, version, primary server and agent information",
            Section::Features => "PE feature use",
            Section::BackupRestore => "Backup and restore (puppet-backup)",
            Section::Performance => "Puppet Server performance",
            Section::Installer => "Installer",
            Section::AwsMarketplace => "AWS Marketplace image",
            Section::Console => "Collected by the console while in use (in the browser)",
            Section::NotCollected => "Not collected (user inputs)",
        }
    }
}

/// When PE sends an item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum When {
    /// Puppet Server's check-in: at its start and every 24 hours.
    CheckIn,
    /// As each orchestrator job runs.
    PerJob,
    /// As each Code Manager deploy runs.
    PerDeploy,
    /// As each patching task runs.
    PerPatchRun,
    /// As `puppet-backup` runs.
    PerBackup,
    /// As the installer runs.
    Install,
    /// In the console user's browser.
    Browser,
    /// Never.
    Never,
}

impl When {
    /// The JSON value of `sent_when`.
    pub fn id(self) -> &'static str {
        match self {
            When::CheckIn => "check-in",
            When::PerJob => "per-job",
            When::PerDeploy => "per-deploy",
            When::PerPatchRun => "per-patch-run",
            When::PerBackup => "per-backup",
            When::Install => "install",
            When::Browser => "browser",
            When::Never => "never",
        }
    }
}

/// Where PE keeps what it sends, i.e. where the report reads it; or why it
/// cannot be read from outside.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    LicenseFile,
    ProductConf,
    PeVersionFile,
    /// The primary's facts in PuppetDB.
    PrimaryFacts,
    /// Aggregate queries over every node in PuppetDB.
    PuppetDb,
    Classifier,
    Rbac,
    /// The orchestrator's job list (since its start, from its status API).
    Orchestrator,
    /// Puppet Server's status API (`/status/v1/services?level=debug`).
    PuppetServerStatus,
    /// Puppet Server's own configuration file on the primary.
    PuppetServerConf,
    /// `puppet.conf` on the primary (the CA).
    PuppetConf,
    /// Not computable from outside; the reason.
    Nowhere(&'static str),
    /// PE does not collect it.
    NotCollected,
}

/// One item of PE's list.
#[derive(Debug)]
pub struct Entry {
    /// Stable JSON id.
    pub id: &'static str,
    pub section: Section,
    /// PE's wording (2021.7's).
    pub item: &'static str,
    /// First release whose page lists it.
    pub since: Release,
    /// First release whose page no longer lists it.
    pub until: Option<Release>,
    pub when: When,
    pub source: Source,
}

impl Entry {
    pub fn listed_in(&self, r: Release) -> bool {
        self.since <= r && self.until.is_none_or(|u| r < u)
    }
}

const BACKUP_WHY: &str = "sent by puppet-backup as it runs; nothing on the primary records it";
const CM_WHY: &str = "sent by Code Manager as each deploy runs; its API keeps no deploy history";
const INSTALL_WHY: &str = "sent by the installer as it runs; nothing on the primary records it";
const PATCH_WHY: &str =
    "sent as each patching task runs; the figures are in that run's output, not kept by PE";
const TRANSPORT_WHY: &str =
    "sent as each job runs; the orchestrator's job list does not say which transport each node used";
const MARKETPLACE_WHY: &str =
    "PE reads it from the AWS Marketplace image it was installed from; nothing PE keeps records it";

macro_rules! entries {
    ($($id:literal, $sec:ident, $item:literal, $since:expr, $until:expr, $when:ident, $src:expr;)*) => {
        /// Every item of every page, in PE's order.
        pub const ENTRIES: &[Entry] = &[$(Entry {
            id: $id,
            section: Section::$sec,
            item: $item,
            since: $since,
            until: $until,
            when: When::$when,
            source: $src,
        },)*];
    };
}

use Source::*;
const ALWAYS: Release = (2016, 4);
const NO_END: Option<Release> = None;

entries! {
    "license_uuid", Server, "License UUID", ALWAYS, NO_END, CheckIn, LicenseFile;
    "licensed_nodes", Server, "Number of licensed nodes", ALWAYS, NO_END, CheckIn, LicenseFile;
    "product_name", Server, "Product name", ALWAYS, NO_END, CheckIn, ProductConf;
    "pe_version", Server, "PE version", ALWAYS, NO_END, CheckIn, PeVersionFile;
    "primary_os", Server, "Primary server's operating system", ALWAYS, NO_END, CheckIn, PrimaryFacts;
    "primary_public_ip", Server, "Primary server's public IP address", ALWAYS, NO_END, CheckIn,
        Nowhere("Puppet's analytics server records the address the check-in comes from (the primary's \
public, possibly NAT-ed, address); nothing on the primary knows it");
    "primary_on_azure", Server, "Whether the primary server is running on Microsoft Azure", (2017, 2), NO_END, CheckIn, PrimaryFacts;
    "primary_hypervisor", Server, "The hypervisor the primary server is running on, if applicable", (2017, 2), NO_END, CheckIn, PrimaryFacts;
    "nodes_in_deployment", Server, "Number of nodes in deployment", ALWAYS, NO_END, CheckIn, PuppetDb;
    "agent_os", Server, "Agent operating systems and number of agents running on each", ALWAYS, NO_END, CheckIn, PuppetDb;
    "agent_versions", Server, "Agent versions and number of agents running each", ALWAYS, NO_END, CheckIn, PuppetDb;
    "aio_agent_versions", Server, "All-in-One (AIO) puppet-agent package versions", (2017, 2), NO_END, CheckIn, PuppetDb;
    "agents_on_cloud", Server, "Number of agents running on Microsoft Azure or Google Cloud Platform, if applicable", (2017, 2), NO_END, CheckIn, PuppetDb;
    "ha_replicas", Server, "Number of configured disaster recovery (high availability) replicas, if applicable", (2018, 1), NO_END, CheckIn, Classifier;

    "node_groups", Features, "Number of node groups in use", (2017, 1), NO_END, CheckIn, Classifier;
    "orchestrator_job_nodes", Features, "Number of nodes used in orchestrator jobs after the last orchestrator restart", (2017, 1), NO_END, CheckIn, Orchestrator;
    "orchestrator_job_nodes_mean", Features, "Mean number of nodes per orchestrator job", (2017, 1), NO_END, CheckIn, Orchestrator;
    "orchestrator_job_nodes_max", Features, "Maximum number of nodes per orchestrator job", (2017, 1), NO_END, CheckIn, Orchestrator;
    "orchestrator_job_nodes_min", Features, "Minimum number of nodes per orchestrator job", (2017, 1), NO_END, CheckIn, Orchestrator;
    "orchestrator_jobs", Features, "Total number of orchestrator jobs created after the last orchestrator restart", (2017, 1), NO_END, CheckIn, Orchestrator;
    "non_default_roles", Features, "Number of non-default user roles in use", (2017, 2), NO_END, CheckIn, Rbac;
    "mcollective_in_use", Features, "Whether MCollective is in use", (2017, 2), Some((2019, 0)), CheckIn, PuppetDb;
    "autosign_type", Features, "Type of certificate autosigning in use", (2017, 2), NO_END, CheckIn, PuppetConf;
    "job_nodes_pcp", Features, "Number of nodes in the job that were run over Puppet Communications Protocol (PCP)", (2018, 1), NO_END, PerJob, Nowhere(TRANSPORT_WHY);
    "job_nodes_ssh", Features, "Number of nodes in the job that were run over SSH", (2019, 0), NO_END, PerJob, Nowhere(TRANSPORT_WHY);
    "job_nodes_winrm", Features, "Number of nodes in the job that were run over WinRM", (2019, 0), NO_END, PerJob, Nowhere(TRANSPORT_WHY);
    "patch_nodes_per_run", Features, "Number of nodes patched per task run", (2019, 8), NO_END, PerPatchRun, Nowhere(PATCH_WHY);
    "patch_os_types", Features, "Type of operating system on nodes that were patched in a task run", (2019, 8), NO_END, PerPatchRun, Nowhere(PATCH_WHY);
    "patch_patches_per_node", Features, "Number of patches applied to each node per task run", (2019, 8), NO_END, PerPatchRun, Nowhere(PATCH_WHY);
    "patch_completed_per_run", Features, "Number of patches completed per task run", (2019, 8), NO_END, PerPatchRun, Nowhere(PATCH_WHY);
    "pe_patch_nodes", Features, "Number of nodes with the pe_patch module", (2019, 8), NO_END, CheckIn, PuppetDb;
    "pe_patch_nodes_needing_patches", Features, "Number of nodes with the pe_patch module that require patching", (2019, 8), NO_END, CheckIn, PuppetDb;
    "task_jobs", Features, "List of Puppet task jobs", (2018, 1), NO_END, PerJob, Orchestrator;
    "deploy_jobs", Features, "List of Puppet deploy jobs", (2018, 1), NO_END, PerJob, Orchestrator;
    "plan_task_jobs", Features, "List of Puppet task jobs run by plans", (2019, 2), NO_END, PerJob, Orchestrator;
    "plan_upload_jobs", Features, "List of file upload jobs run by plans", (2019, 2), NO_END, PerJob, Orchestrator;
    "plan_script_jobs", Features, "List of script jobs run by plans", (2019, 2), NO_END, PerJob, Orchestrator;
    "plan_command_jobs", Features, "List of command jobs run by plans", (2019, 2), NO_END, PerJob, Orchestrator;
    "plan_wait_jobs", Features, "List of wait jobs run by plans", (2019, 2), NO_END, PerJob, Orchestrator;
    "job_node_selection", Features, "How nodes were selected for the job", (2018, 1), NO_END, PerJob, Orchestrator;
    "job_by_admin", Features, "Whether the job was started by the PE admin account", (2018, 1), NO_END, PerJob, Orchestrator;
    "job_node_count", Features, "Number of nodes in the job", (2018, 1), NO_END, PerJob, Orchestrator;
    "job_description_length", Features, "Length of description applied to the job", (2018, 1), NO_END, PerJob, Orchestrator;
    "job_duration", Features, "Length of time the job ran", (2018, 1), NO_END, PerJob, Orchestrator;
    "job_user_agent", Features, "User agent used to start the job (console, command line or API)", (2018, 1), NO_END, PerJob,
        Nowhere("the orchestrator sends the HTTP User-Agent of the request that started the job; its job list does not keep it");
    "job_user_uuid", Features, "UUID used to correlate multiple jobs run by the same user", (2018, 1), NO_END, PerJob,
        Nowhere("an anonymized identifier the orchestrator derives when it sends the job; not kept in its job list");
    "task_job_time", Features, "Time at which the task job ran", (2018, 1), NO_END, PerJob, Orchestrator;
    "job_noop_override", Features, "Whether the job was asked to override agent-configured no-operation (no-op) mode", (2018, 1), NO_END, PerJob, Orchestrator;
    "job_app_management", Features, "Whether app-management was enabled in the orchestrator for this job", (2018, 1), NO_END, PerJob,
        Nowhere("an orchestrator setting (application management) its job list does not show");
    "deploy_job_time", Features, "Time the deploy job ran", (2018, 1), NO_END, PerJob, Orchestrator;
    "cm_webhook_type", Features, "Type of version control system webhook", (2018, 1), NO_END, PerDeploy, Nowhere(CM_WHY);
    "cm_deploy_all", Features, "Whether the request was to deploy all environments", (2018, 1), NO_END, PerDeploy, Nowhere(CM_WHY);
    "cm_wait", Features, "Whether Code Manager waited for all deploys to finish before returning a response", (2018, 1), NO_END, PerDeploy, Nowhere(CM_WHY);
    "cm_dry_run", Features, "Whether the deploy was a dry run", (2018, 1), NO_END, PerDeploy, Nowhere(CM_WHY);
    "cm_environments_requested", Features, "List of environments requested to deploy", (2018, 1), NO_END, PerDeploy, Nowhere(CM_WHY);
    "cm_deploy_requests", Features, "List of deploy requests", (2018, 1), NO_END, PerDeploy, Nowhere(CM_WHY);
    "cm_total_time", Features, "Total time elapsed for all deploys to finish", (2018, 1), NO_END, PerDeploy, Nowhere(CM_WHY);
    "cm_wait_times", Features, "List of total wait times for deploys specifying the --wait option", (2018, 1), NO_END, PerDeploy, Nowhere(CM_WHY);
    "cm_environment_name", Features, "Name of environment deployed", (2018, 1), NO_END, PerDeploy, Nowhere(CM_WHY);
    "cm_r10k_time", Features, "Time needed for r10k to run", (2018, 1), NO_END, PerDeploy, Nowhere(CM_WHY);
    "cm_file_sync_time", Features, "Time spent committing to file sync", (2018, 1), NO_END, PerDeploy, Nowhere(CM_WHY);
    "cm_hooks_time", Features, "Time elapsed for all environment hooks to run", (2018, 1), NO_END, PerDeploy, Nowhere(CM_WHY);
    "cm_environment_deploys", Features, "List of individual environment deploys", (2018, 1), NO_END, PerDeploy, Nowhere(CM_WHY);
    "public_module_classes", Features, "Puppet classes applied from publicly available modules, with node counts per class", (2019, 1), NO_END, CheckIn, PuppetDb;

    "restore_force", BackupRestore, "Whether the user used the --force option when running restore", (2018, 1), NO_END, PerBackup, Nowhere(BACKUP_WHY);
    "restore_scope", BackupRestore, "Scope of restore", (2018, 1), NO_END, PerBackup, Nowhere(BACKUP_WHY);
    "restore_times", BackupRestore, "Time in seconds for various restore functions", (2018, 1), NO_END, PerBackup, Nowhere(BACKUP_WHY);
    "restore_disk_check_time", BackupRestore, "Time to check for disk space to restore", (2018, 1), NO_END, PerBackup, Nowhere(BACKUP_WHY);
    "restore_stop_services_time", BackupRestore, "Time to stop PE related services", (2018, 1), NO_END, PerBackup, Nowhere(BACKUP_WHY);
    "restore_files_time", BackupRestore, "Time to restore PE file system components", (2018, 1), NO_END, PerBackup, Nowhere(BACKUP_WHY);
    "restore_migrate_config_time", BackupRestore, "Time to migrate PE configuration for new server", (2018, 1), NO_END, PerBackup, Nowhere(BACKUP_WHY);
    "restore_configure_time", BackupRestore, "Time to configure PE on newly restored primary server", (2018, 1), NO_END, PerBackup, Nowhere(BACKUP_WHY);
    "restore_classification_time", BackupRestore, "Time to update PE classification for new server", (2018, 1), NO_END, PerBackup, Nowhere(BACKUP_WHY);
    "restore_deactivate_time", BackupRestore, "Time to deactivate the old primary server node", (2018, 1), NO_END, PerBackup, Nowhere(BACKUP_WHY);
    "restore_orchestrator_db_time", BackupRestore, "Time to restore the pe-orchestrator database", (2018, 1), NO_END, PerBackup, Nowhere(BACKUP_WHY);
    "restore_rbac_db_time", BackupRestore, "Time to restore the pe-rbac database", (2018, 1), NO_END, PerBackup, Nowhere(BACKUP_WHY);
    "restore_classifier_db_time", BackupRestore, "Time to restore the pe-classifier database", (2018, 1), NO_END, PerBackup, Nowhere(BACKUP_WHY);
    "restore_activity_db_time", BackupRestore, "Time to restore the pe-activity database", (2018, 1), NO_END, PerBackup, Nowhere(BACKUP_WHY);
    "restore_puppetdb_db_time", BackupRestore, "Time to restore the pe-puppetdb database", (2018, 1), NO_END, PerBackup, Nowhere(BACKUP_WHY);
    "restore_total_time", BackupRestore, "Total time to restore", (2018, 1), NO_END, PerBackup, Nowhere(BACKUP_WHY);
    "restore_jobs", BackupRestore, "List of puppet backup restore jobs", (2018, 1), NO_END, PerBackup, Nowhere(BACKUP_WHY);
    "backup_force", BackupRestore, "Whether the user used the --force option when running puppet-backup create", (2018, 1), NO_END, PerBackup, Nowhere(BACKUP_WHY);
    "backup_dir", BackupRestore, "Whether the user used the --dir option when running puppet-backup create", (2018, 1), NO_END, PerBackup, Nowhere(BACKUP_WHY);
    "backup_name", BackupRestore, "Whether the user used the --name option when running puppet-backup create", (2018, 1), NO_END, PerBackup, Nowhere(BACKUP_WHY);
    "backup_scope", BackupRestore, "Scope of backup", (2018, 1), NO_END, PerBackup, Nowhere(BACKUP_WHY);
    "backup_times", BackupRestore, "Time in seconds for various backup functions", (2018, 1), NO_END, PerBackup, Nowhere(BACKUP_WHY);
    "backup_estimate_time", BackupRestore, "Time needed to estimate backup size, disk space needed, and disk space available", (2018, 1), NO_END, PerBackup, Nowhere(BACKUP_WHY);
    "backup_files_time", BackupRestore, "Time to create file system backup", (2018, 1), NO_END, PerBackup, Nowhere(BACKUP_WHY);
    "backup_orchestrator_db_time", BackupRestore, "Time to back up the pe-orchestrator database", (2018, 1), NO_END, PerBackup, Nowhere(BACKUP_WHY);
    "backup_rbac_db_time", BackupRestore, "Time to back up the pe-rbac database", (2018, 1), NO_END, PerBackup, Nowhere(BACKUP_WHY);
    "backup_classifier_db_time", BackupRestore, "Time to back up the pe-classifier database", (2018, 1), NO_END, PerBackup, Nowhere(BACKUP_WHY);
    "backup_activity_db_time", BackupRestore, "Time to back up the pe-activity database", (2018, 1), NO_END, PerBackup, Nowhere(BACKUP_WHY);
    "backup_puppetdb_db_time", BackupRestore, "Time to back up the pe-puppetdb database", (2018, 1), NO_END, PerBackup, Nowhere(BACKUP_WHY);
    "backup_compress_time", BackupRestore, "Time to compress archive file to backup directory", (2018, 1), NO_END, PerBackup, Nowhere(BACKUP_WHY);
    "backup_classification_time", BackupRestore, "Time to back up PE-related classification", (2018, 1), NO_END, PerBackup, Nowhere(BACKUP_WHY);
    "backup_total_time", BackupRestore, "Total time to back up", (2018, 1), NO_END, PerBackup, Nowhere(BACKUP_WHY);
    "backup_jobs", BackupRestore, "List of puppet-backup create jobs", (2018, 1), NO_END, PerBackup, Nowhere(BACKUP_WHY);

    "jruby_instances", Performance, "Total number of JRuby instances", (2017, 2), NO_END, CheckIn, PuppetServerStatus;
    "jruby_max_active", Performance, "Maximum number of active JRuby instances", (2017, 2), NO_END, CheckIn, PuppetServerConf;
    "jruby_max_requests", Performance, "Maximum number of requests per JRuby instance", (2017, 2), NO_END, CheckIn, PuppetServerConf;
    "jruby_average_free", Performance, "Average number of instances not used over the process' lifetime", (2017, 2), NO_END, CheckIn, PuppetServerStatus;
    "jruby_average_lock_wait", Performance, "Average wait time to lock the JRuby pool", (2017, 2), NO_END, CheckIn, PuppetServerStatus;
    "jruby_average_lock_held", Performance, "Average time the JRuby pool held a lock", (2017, 2), NO_END, CheckIn, PuppetServerStatus;
    "jruby_average_borrow", Performance, "Average time an instance spent handling requests", (2017, 2), NO_END, CheckIn, PuppetServerStatus;
    "jruby_average_wait", Performance, "Average time spent waiting to reserve an instance from the JRuby pool", (2017, 2), NO_END, CheckIn, PuppetServerStatus;
    "jruby_timeouts", Performance, "Number of requests that timed out while waiting for a JRuby instance", (2017, 2), NO_END, CheckIn, PuppetServerStatus;
    "jvm_heap_initial", Performance, "Amount of memory the JVM starts with", (2017, 2), NO_END, CheckIn, PuppetServerStatus;
    "jvm_heap_max", Performance, "Maximum amount of memory the JVM is allowed to request from the operating system", (2017, 2), NO_END, CheckIn, PuppetServerStatus;

    "install_method", Installer, "Installation method (express, text, web, or repair)", (2019, 0), NO_END, Install, Nowhere(INSTALL_WHY);
    "install_current_version", Installer, "Current version, if upgrading", (2019, 0), NO_END, Install, Nowhere(INSTALL_WHY);
    "install_target_version", Installer, "Target version", (2019, 0), NO_END, Install, Nowhere(INSTALL_WHY);
    "install_result", Installer, "Whether installation succeeded or failed, and limited failure type information", (2019, 0), NO_END, Install, Nowhere(INSTALL_WHY);

    "aws_marketplace_name", AwsMarketplace, "Marketplace name", (2017, 1), NO_END, CheckIn, Nowhere(MARKETPLACE_WHY);
    "aws_billing_mode", AwsMarketplace, "Marketplace image billing mode (bring your own license or pay as you go)", (2017, 1), NO_END, CheckIn, Nowhere(MARKETPLACE_WHY);

    "console_page_views", Console, "Page views", ALWAYS, NO_END, Browser, Nowhere("which console pages are opened");
    "console_clicks", Console, "Link and button clicks", ALWAYS, NO_END, Browser, Nowhere("which links and buttons are clicked");
    "console_page_load_time", Console, "Page load time", ALWAYS, NO_END, Browser, Nowhere("how long console pages take to load in the browser");
    "console_user_language", Console, "User language", ALWAYS, NO_END, Browser, Nowhere("the browser's language setting");
    "console_screen_resolution", Console, "Screen resolution", ALWAYS, NO_END, Browser, Nowhere("the size of the user's screen");
    "console_viewport_size", Console, "Viewport size", ALWAYS, NO_END, Browser, Nowhere("the size of the browser window");
    "console_anonymized_ip", Console, "Anonymized IP address", ALWAYS, NO_END, Browser, Nowhere("the browser's IP address, anonymized");

    "node_names", NotCollected, "Node names", ALWAYS, NO_END, Never, NotCollected;
    "group_names", NotCollected, "Node group names", ALWAYS, NO_END, Never, NotCollected;
    "user_names", NotCollected, "User names", ALWAYS, NO_END, Never, NotCollected;
    "rules", NotCollected, "Classification rules", ALWAYS, NO_END, Never, NotCollected;
    "parameters", NotCollected, "Class parameters", ALWAYS, NO_END, Never, NotCollected;
    "variables", NotCollected, "Variables", ALWAYS, NO_END, Never, NotCollected;
}

/// The items PE's page for `release` lists, in PE's order.
pub fn items_for(release: Release) -> Vec<&'static Entry> {
    let r = release.max(PAGES[0].from);
    ENTRIES.iter().filter(|e| e.listed_in(r)).collect()
}

/// One entry by id.
pub fn entry(id: &str) -> Option<&'static Entry> {
    ENTRIES.iter().find(|e| e.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn ids(r: Release) -> Vec<&'static str> {
        items_for(r).into_iter().map(|e| e.id).collect()
    }

    #[test]
    fn ids_are_unique_and_every_page_starts_a_range() {
        let mut seen = HashSet::new();
        for e in ENTRIES {
            assert!(seen.insert(e.id), "duplicate id {}", e.id);
            assert!(
                PAGES.iter().any(|p| p.from == e.since),
                "{}: no page starts at {:?}",
                e.id,
                e.since
            );
        }
        assert!(PAGES.windows(2).all(|w| w[0].from < w[1].from));
    }

    #[test]
    fn each_page_is_the_one_for_its_range() {
        assert_eq!(page_for((2016, 5)).from, (2016, 4));
        assert_eq!(page_for((2018, 1)).from, (2018, 1));
        assert_eq!(page_for((2019, 7)).from, (2019, 2));
        assert_eq!(page_for((2021, 6)).from, (2019, 8));
        assert_eq!(page_for((2023, 8)).from, (2021, 7));
        assert_eq!(page_for((2015, 3)).from, (2016, 4));
    }

    #[test]
    fn lists_grow_with_the_version() {
        // Items outside the console and the not-collected list.
        let server = |r| {
            items_for(r)
                .into_iter()
                .filter(|e| !matches!(e.section, Section::Console | Section::NotCollected))
                .count()
        };
        assert_eq!(server((2016, 5)), 9);
        assert_eq!(server((2017, 1)), 17);
        assert_eq!(server((2017, 3)), 35);
        assert_eq!(server((2018, 1)), 96);
        assert_eq!(server((2019, 0)), 101);
        assert_eq!(server((2019, 1)), 102);
        assert_eq!(server((2019, 2)), 107);
        assert_eq!(server((2019, 8)), 113);
        assert_eq!(server((2021, 7)), 113);
        assert!(ids((2018, 1)).contains(&"mcollective_in_use"));
        assert!(!ids((2019, 0)).contains(&"mcollective_in_use"));
        assert!(!ids((2016, 5)).contains(&"aio_agent_versions"));
        assert_eq!(ids((2019, 8)), ids((2021, 7)));
    }
}
