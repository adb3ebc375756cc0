"""The VPC: public subnets for the load balancer and NAT, private subnets for every task."""

from __future__ import annotations

import ipaddress

import pulumi
import pulumi_aws as aws

from bgagent_infra.config import StackConfig

GATEWAY_PORT = 8080
_ANYWHERE = [{"protocol": "-1", "from_port": 0, "to_port": 0, "cidr_blocks": ["0.0.0.0/0"]}]


class Network(pulumi.ComponentResource):
    """VPC, subnets, routes and the security groups of the load balancer, services and agents."""

    def __init__(self, name: str, config: StackConfig, opts: pulumi.ResourceOptions | None = None):
        super().__init__("bgagent:infra:Network", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        stack = config.stack_name
        cidrs = list(ipaddress.ip_network(config.vpc_cidr).subnets(new_prefix=20))
        zones = aws.get_availability_zones_output(state="available").names

        self.vpc = aws.ec2.Vpc(f"{name}-vpc", cidr_block=config.vpc_cidr, enable_dns_hostnames=True,
                               enable_dns_support=True, tags={"Name": stack}, opts=child)
        igw = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=self.vpc.id, tags={"Name": stack}, opts=child)
        public_routes = aws.ec2.RouteTable(f"{name}-public", vpc_id=self.vpc.id,
                                           routes=[{"cidr_block": "0.0.0.0/0", "gateway_id": igw.id}],
                                           tags={"Name": f"{stack}-public"}, opts=child)
        self.public_subnets: list[aws.ec2.Subnet] = []
        self.private_subnets: list[aws.ec2.Subnet] = []
        nats: list[aws.ec2.NatGateway] = []
        for i in range(config.availability_zones):
            zone = zones.apply(lambda names, i=i: names[i])
            public = aws.ec2.Subnet(f"{name}-public-{i}", vpc_id=self.vpc.id, cidr_block=str(cidrs[i]),
                                    availability_zone=zone, map_public_ip_on_launch=False,
                                    tags={"Name": f"{stack}-public-{i}", "tier": "public"}, opts=child)
            aws.ec2.RouteTableAssociation(f"{name}-public-{i}", subnet_id=public.id,
                                          route_table_id=public_routes.id, opts=child)
            self.public_subnets.append(public)
            if i < config.nat_gateways:
                eip = aws.ec2.Eip(f"{name}-nat-{i}", domain="vpc", tags={"Name": f"{stack}-nat-{i}"}, opts=child)
                nats.append(aws.ec2.NatGateway(f"{name}-nat-{i}", subnet_id=public.id, allocation_id=eip.id,
                                               tags={"Name": f"{stack}-nat-{i}"},
                                               opts=pulumi.ResourceOptions(parent=self, depends_on=[igw])))
        for i in range(config.availability_zones):
            private = aws.ec2.Subnet(f"{name}-private-{i}", vpc_id=self.vpc.id, cidr_block=str(cidrs[8 + i]),
                                     availability_zone=zones.apply(lambda names, i=i: names[i]),
                                     tags={"Name": f"{stack}-private-{i}", "tier": "private"}, opts=child)
            routes = aws.ec2.RouteTable(f"{name}-private-{i}", vpc_id=self.vpc.id,
                                        routes=[{"cidr_block": "0.0.0.0/0", "nat_gateway_id": nats[i % len(nats)].id}],
                                        tags={"Name": f"{stack}-private-{i}"}, opts=child)
            aws.ec2.RouteTableAssociation(f"{name}-private-{i}", subnet_id=private.id, route_table_id=routes.id,
                                          opts=child)
            self.private_subnets.append(private)

        ports = [443, 80] if config.certificate_arn else [80]
        self.alb_sg = aws.ec2.SecurityGroup(
            f"{name}-alb", vpc_id=self.vpc.id, description="bgagent API load balancer",
            ingress=[{"protocol": "tcp", "from_port": p, "to_port": p, "cidr_blocks": config.ingress_cidrs}
                     for p in ports],
            egress=[{"protocol": "tcp", "from_port": GATEWAY_PORT, "to_port": GATEWAY_PORT,
                     "cidr_blocks": [config.vpc_cidr]}],
            tags={"Name": f"{stack}-alb"}, opts=child)
        # Tasks reach AWS APIs, GitHub and the model API through NAT; nothing reaches them but the ALB.
        self.gateway_sg = aws.ec2.SecurityGroup(
            f"{name}-gateway", vpc_id=self.vpc.id, description="bgagent gateway tasks",
            ingress=[{"protocol": "tcp", "from_port": GATEWAY_PORT, "to_port": GATEWAY_PORT,
                      "security_groups": [self.alb_sg.id]}],
            egress=_ANYWHERE, tags={"Name": f"{stack}-gateway"}, opts=child)
        self.workers_sg = aws.ec2.SecurityGroup(f"{name}-workers", vpc_id=self.vpc.id,
                                                description="bgagent worker tasks (no inbound)", egress=_ANYWHERE,
                                                tags={"Name": f"{stack}-workers"}, opts=child)
        self.agent_sg = aws.ec2.SecurityGroup(f"{name}-agent", vpc_id=self.vpc.id,
                                              description="bgagent agent tasks (no inbound)", egress=_ANYWHERE,
                                              tags={"Name": f"{stack}-agent"}, opts=child)
        self.private_subnet_ids = pulumi.Output.all(*[s.id for s in self.private_subnets])
        self.public_subnet_ids = pulumi.Output.all(*[s.id for s in self.public_subnets])
        self.register_outputs({"vpc_id": self.vpc.id, "private_subnet_ids": self.private_subnet_ids})
