module github.com/kvarter/kvarter/core

go 1.26.8
