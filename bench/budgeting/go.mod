module github.com/kvarter/kvarter/bench/budgeting

go 1.26.8
