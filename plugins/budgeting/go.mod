module github.com/kvarter/kvarter/plugins/budgeting

go 1.26.8
