module github.com/kvarter/kvarter/migrations

go 1.26.8
