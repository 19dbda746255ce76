"""The sandbox's Kubernetes API and Prometheus, following the world's cluster at the sandbox clock.

`api.KubeSandbox` runs kmock's `KubernetesEmulator` (`emulator`) on 127.0.0.1 in a
background thread and writes the cluster's live state as of the world's clock into it
through the `kubernetes` client, as a controller would: namespaces, nodes, running and
pending pods, the batch pods that finished in the last 14 days (their Jobs'
`ttlSecondsAfterFinished`), and the events of the last hour (real events expire after
about an hour).
When the sandbox clock moves it creates, patches and deletes objects so a second sync
sees what changed in between. `objects` turns the world's cluster into the objects of one
moment; `prometheus` backfills a real Prometheus with their kube-state-metrics history.

kmock 0.8 serves lists, reads, writes and watches from memory but has gaps that a
collector meets; `emulator.Emulator` fills the ones that matter here (`KMOCK_GAPS`).
"""
