module github.com/kvarter/kvarter/cmd

go 1.26.8
