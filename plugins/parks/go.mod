module github.com/kvarter/kvarter/plugins/parks

go 1.26.8
