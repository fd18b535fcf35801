package main

import (
	"fmt"
	"runtime/debug"
)

// buildCommit is the commit the binary was built from: the one -ldflags set (a Docker
// build has no .git to read), else the VCS stamp Go records in the binary, else
// "unknown". modified says the stamp records uncommitted changes. It is resolved once,
// here, for `kvarter version` and the node's kvarter_build_info alike.
func buildCommit(ldflags string) (commit string, modified bool) {
	commit = ldflags
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				if commit == "" {
					commit = s.Value
				}
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	if commit == "" {
		commit = "unknown"
	}
	return commit, modified
}

// versionText is what `kvarter version` prints: the release, the commit it was built
// from and the Go toolchain.
func versionText(version, ldflagsCommit string) string {
	goVersion := "unknown"
	if info, ok := debug.ReadBuildInfo(); ok {
		goVersion = info.GoVersion
	}
	commit, modified := buildCommit(ldflagsCommit)
	if modified {
		commit += " (modified)"
	}
	return fmt.Sprintf("kvarter %s\ncommit %s\ngo %s\n", version, commit, goVersion)
}
