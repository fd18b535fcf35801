module github.com/kvarter/kvarter/bench/assemblies

go 1.26.8
