"""Alerts to operations, in one place.

- `record`: an alert is a fact, written once per episode with the change that caused it
  (closed with an issue, the daily digest);
- `overdue`: the overdue scan, which records one alert per follow-up and episode;
- `deliveries`: each alert's delivery state on each channel (pending, sent, failed);
- `dispatch`: the dispatcher, which fans alerts out to its configured channels and sends;
- `channels`, `slack`, `smtp`, `render`, `message`: where and how a message goes out;
- `measurements`: the worker's counters (deliveries, scans), served by `/metrics`.
"""
