module github.com/kvarter/kvarter/plugins/assemblies

go 1.26.8
