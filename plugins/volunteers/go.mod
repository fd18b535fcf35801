module github.com/kvarter/kvarter/plugins/volunteers

go 1.26.8
