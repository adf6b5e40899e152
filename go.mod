module github.com/jack-paas/jack

go 1.26.8
