package main

import (
	"fmt"
	"runtime/debug"
)

// versionText is what `kvarter version` prints: the release, the commit it was built
// from and the Go toolchain. The commit comes from -ldflags when the build set it (a
// Docker build has no .git to read), else from the VCS stamp Go records in the binary.
func versionText(version, commit string) string {
	goVersion, modified := "unknown", false
	if info, ok := debug.ReadBuildInfo(); ok {
		goVersion = info.GoVersion
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
	} else if modified {
		commit += " (modified)"
	}
	return fmt.Sprintf("kvarter %s\ncommit %s\ngo %s\n", version, commit, goVersion)
}
