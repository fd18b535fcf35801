module github.com/kvarter/kvarter/sdk

go 1.26.8
