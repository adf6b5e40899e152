package e2e

import dto "github.com/prometheus/client_model/go"

type (
	dtoFamily = dto.MetricFamily
	dtoMetric = dto.Metric
)
