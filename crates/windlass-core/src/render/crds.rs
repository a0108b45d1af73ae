//! Small typed structs for the custom resources windlass emits, with only the
//! fields it sets. Field names follow the upstream CRDs (prometheus-operator,
//! Gateway API, cert-manager, Envoy Gateway); the test bed admits them against
//! the real CRD schemas.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use serde::Serialize;

macro_rules! resource {
    ($name:ident, $api:expr, $kind:expr, $spec:ty) => {
        #[derive(Debug, Clone, Serialize)]
        #[serde(rename_all = "camelCase")]
        pub struct $name {
            pub api_version: &'static str,
            pub kind: &'static str,
            pub metadata: ObjectMeta,
            pub spec: $spec,
        }

        impl $name {
            pub fn new(metadata: ObjectMeta, spec: $spec) -> Self {
                Self {
                    api_version: $api,
                    kind: $kind,
                    metadata,
                    spec,
                }
            }
        }
    };
}

// --- prometheus-operator -------------------------------------------------

resource!(
    ServiceMonitor,
    "monitoring.coreos.com/v1",
    "ServiceMonitor",
    ServiceMonitorSpec
);

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceMonitorSpec {
    pub selector: LabelSelector,
    pub endpoints: Vec<ServiceMonitorEndpoint>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceMonitorEndpoint {
    pub port: String,
    pub path: String,
    pub interval: String,
    pub scrape_timeout: String,
}

// --- Gateway API (standard channel, v1) ----------------------------------

resource!(Gateway, "gateway.networking.k8s.io/v1", "Gateway", GatewaySpec);

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GatewaySpec {
    pub gateway_class_name: String,
    pub listeners: Vec<Listener>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Listener {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    pub port: i32,
    pub protocol: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<ListenerTls>,
    pub allowed_routes: AllowedRoutes,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListenerTls {
    pub mode: &'static str,
    pub certificate_refs: Vec<SecretRef>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretRef {
    pub kind: &'static str,
    pub name: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AllowedRoutes {
    pub namespaces: RouteNamespaces,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteNamespaces {
    pub from: &'static str,
}

resource!(HttpRoute, "gateway.networking.k8s.io/v1", "HTTPRoute", HttpRouteSpec);

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpRouteSpec {
    pub parent_refs: Vec<ParentRef>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hostnames: Vec<String>,
    pub rules: Vec<HttpRouteRule>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ParentRef {
    pub name: String,
    pub namespace: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub section_name: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpRouteRule {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub matches: Vec<HttpRouteMatch>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<HttpRouteFilter>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub backend_refs: Vec<BackendRef>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpRouteFilter {
    #[serde(rename = "type")]
    pub type_: &'static str,
    pub request_redirect: RequestRedirect,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestRedirect {
    pub scheme: &'static str,
    pub status_code: i32,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpRouteMatch {
    pub path: HttpPathMatch,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpPathMatch {
    #[serde(rename = "type")]
    pub type_: &'static str,
    pub value: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BackendRef {
    pub name: String,
    pub port: i32,
}

// --- Envoy Gateway: source-IP allow lists on a route ----------------------

resource!(
    SecurityPolicy,
    "gateway.envoyproxy.io/v1alpha1",
    "SecurityPolicy",
    SecurityPolicySpec
);

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecurityPolicySpec {
    pub target_refs: Vec<PolicyTargetRef>,
    pub authorization: Authorization,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyTargetRef {
    pub group: &'static str,
    pub kind: &'static str,
    pub name: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Authorization {
    pub default_action: &'static str,
    pub rules: Vec<AuthorizationRule>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizationRule {
    pub name: String,
    pub action: &'static str,
    pub principal: Principal,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Principal {
    #[serde(rename = "clientCIDRs")]
    pub client_cidrs: Vec<String>,
}

// --- cert-manager ----------------------------------------------------------

resource!(Certificate, "cert-manager.io/v1", "Certificate", CertificateSpec);

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateSpec {
    pub secret_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub common_name: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dns_names: Vec<String>,
    #[serde(rename = "isCA", skip_serializing_if = "Option::is_none")]
    pub is_ca: Option<bool>,
    pub issuer_ref: IssuerRef,
    pub private_key: PrivateKey,
    /// Renew this long before expiry (the content pack alerts at 14 days).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub renew_before: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IssuerRef {
    pub name: String,
    pub kind: &'static str,
    pub group: &'static str,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PrivateKey {
    pub algorithm: &'static str,
    pub size: i32,
    pub rotation_policy: &'static str,
}

resource!(ClusterIssuer, "cert-manager.io/v1", "ClusterIssuer", ClusterIssuerSpec);

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ClusterIssuerSpec {
    Acme(AcmeIssuer),
    #[serde(rename = "selfSigned")]
    SelfSigned(BTreeMap<String, String>),
    Ca(CaIssuer),
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AcmeIssuer {
    pub server: &'static str,
    pub email: String,
    pub private_key_secret_ref: NamedSecret,
    pub solvers: Vec<AcmeSolver>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NamedSecret {
    pub name: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AcmeSolver {
    pub http01: Http01Solver,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Http01Solver {
    #[serde(rename = "gatewayHTTPRoute")]
    GatewayHttpRoute {
        #[serde(rename = "parentRefs")]
        parent_refs: Vec<ParentRef>,
    },
    Ingress {
        #[serde(rename = "ingressClassName")]
        ingress_class_name: String,
    },
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CaIssuer {
    pub secret_name: String,
}

resource!(
    GatewayClass,
    "gateway.networking.k8s.io/v1",
    "GatewayClass",
    GatewayClassSpec
);

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GatewayClassSpec {
    pub controller_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameters_ref: Option<ParametersRef>,
}

/// A GatewayClass's controller-specific parameters (Envoy Gateway: an EnvoyProxy).
#[derive(Debug, Clone, Serialize)]
pub struct ParametersRef {
    pub group: &'static str,
    pub kind: &'static str,
    pub name: String,
    pub namespace: String,
}

resource!(
    EnvoyProxy,
    "gateway.envoyproxy.io/v1alpha1",
    "EnvoyProxy",
    EnvoyProxySpec
);

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvoyProxySpec {
    /// Every Gateway of the class on one Envoy fleet and one address.
    pub merge_gateways: bool,
}

// --- Vault Secrets Operator (secrets.hashicorp.com/v1beta1) -----------------

resource!(
    VaultConnection,
    "secrets.hashicorp.com/v1beta1",
    "VaultConnection",
    VaultConnectionSpec
);

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VaultConnectionSpec {
    pub address: String,
}

resource!(VaultAuth, "secrets.hashicorp.com/v1beta1", "VaultAuth", VaultAuthSpec);

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VaultAuthSpec {
    pub vault_connection_ref: String,
    pub method: &'static str,
    pub mount: String,
    pub kubernetes: VaultKubernetesAuth,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VaultKubernetesAuth {
    pub role: String,
    pub service_account: String,
    pub audiences: Vec<String>,
}

resource!(
    VaultStaticSecret,
    "secrets.hashicorp.com/v1beta1",
    "VaultStaticSecret",
    VaultStaticSecretSpec
);

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VaultStaticSecretSpec {
    pub vault_auth_ref: String,
    pub mount: String,
    pub path: String,
    #[serde(rename = "type")]
    pub type_: &'static str,
    pub refresh_after: String,
    pub destination: VaultDestination,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rollout_restart_targets: Vec<RolloutRestartTarget>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VaultDestination {
    pub name: String,
    pub create: bool,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RolloutRestartTarget {
    pub kind: &'static str,
    pub name: String,
}
