"""GKE cluster (Autopilot or Standard) in its VPC, or an existing one, its accelerator node pools, and a Kubernetes
provider that authenticates with gke-gcloud-auth-plugin. Arguments come from profiles.gke; every child depends on
what the component depends on (the API enablement)."""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s

from components.wiring import child
from profiles.gke.cluster import CLUSTER_IGNORE_CHANGES, cluster_args, nat_args, network_args
from profiles.gke.kubeconfig import kubeconfig
from profiles.gke.node_pools import NODE_POOL_CREATE_TIMEOUT, NODE_SA_ROLES, pool_args, system_pool_args
from profiles.stack.specs import InferenceClusterSpec


class InferenceCluster(pulumi.ComponentResource):
    name: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    provider: k8s.Provider

    def __init__(self, name: str, spec: InferenceClusterSpec, opts: pulumi.ResourceOptions | None = None):
        super().__init__("gke-inference:cluster:InferenceCluster", name, {}, opts)
        project, region, created = spec.project, spec.region, spec.create
        self.node_pools: list[gcp.container.NodePool] = []
        self.cluster: gcp.container.Cluster | None = None
        node_sa = None
        if created is not None or spec.pools:
            node_sa = gcp.serviceaccount.Account(f"{name}-nodes", project=project, account_id=spec.node_sa_id,
                                                 display_name=f"GKE nodes of {name} (gke-inference)", opts=child(self, opts))
            for i, role in enumerate(NODE_SA_ROLES):
                gcp.projects.IAMMember(f"{name}-nodes-role-{i}", project=project, role=role,
                                       member=node_sa.email.apply(lambda e: f"serviceAccount:{e}"), opts=child(self, opts))
        if created is not None:
            net = created.network
            network = subnetwork = None
            if net is not None and net.create:
                vpc_args, subnet_args = network_args(net, region)
                vpc = gcp.compute.Network(f"{name}-vpc", project=project, **vpc_args, opts=child(self, opts))
                subnet = gcp.compute.Subnetwork(f"{name}-subnet", project=project, network=vpc.id, **subnet_args,
                                                opts=child(self, opts))
                network, subnetwork = vpc.id, subnet.id
            elif net is not None:
                network, subnetwork = net.network, net.subnetwork
            if created.private_nodes:
                router_args, nat = nat_args(region, network)
                router = gcp.compute.Router(f"{name}-router", project=project, **router_args, opts=child(self, opts))
                gcp.compute.RouterNat(f"{name}-nat", project=project, router=router.name, **nat, opts=child(self, opts))
            ignore = list(CLUSTER_IGNORE_CHANGES) if created.mode == "standard" else []
            cluster = gcp.container.Cluster(name, **cluster_args(created, project, region, node_sa.email, network, subnetwork),
                                            opts=child(self, opts, ignore_changes=ignore or None))
            self.cluster = cluster
            cluster_name, endpoint, ca = cluster.name, cluster.endpoint, cluster.master_auth.cluster_ca_certificate
            if created.mode == "standard":
                self.node_pools.append(gcp.container.NodePool(
                    f"{name}-system", cluster=cluster.name, location=region, project=project,
                    **system_pool_args(spec.system_machine_type, node_sa.email),
                    opts=child(self, opts, ignore_changes=["initialNodeCount"])))
        else:
            found = gcp.container.get_cluster_output(name=spec.name, location=region, project=project)
            cluster_name, endpoint = found.name, found.endpoint
            ca = found.master_auths.apply(lambda auths: auths[0].cluster_ca_certificate)
        for pool in spec.pools:
            # initialNodeCount only seeds the pool; changing it would replace a pool of accelerator nodes. A capacity
            # edit changes the pool's name (its settings hash), so the new pool is created before the old is deleted
            self.node_pools.append(gcp.container.NodePool(
                f"{name}-{pool.key or pool.name}", cluster=cluster_name, location=region, project=project,
                **pool_args(pool, node_sa.email),
                opts=child(self, opts, ignore_changes=["initialNodeCount"], delete_before_replace=False,
                           custom_timeouts=pulumi.CustomTimeouts(create=NODE_POOL_CREATE_TIMEOUT))))
        self.name, self.endpoint = cluster_name, endpoint
        self.node_sa_email = node_sa.email if node_sa is not None else None  # None: an existing cluster's own nodes
        self.kubeconfig = pulumi.Output.secret(pulumi.Output.all(cluster_name, endpoint, ca).apply(
            lambda v: kubeconfig(f"gke_{project}_{region}_{v[0]}", v[1], v[2])))
        self.provider = k8s.Provider(f"{name}-k8s", kubeconfig=self.kubeconfig, enable_server_side_apply=True,
                                     opts=pulumi.ResourceOptions(parent=self, depends_on=self.node_pools))
        self.register_outputs({"name": self.name, "endpoint": self.endpoint, "kubeconfig": self.kubeconfig})
