using System.Net.Http.Headers;
using System.Net;
using System.Text.Json;
using LayerDive.Core.Resources;

namespace LayerDive.Core.Sources.Registry;

/// <summary>
/// The client's credentials and tokens: the stored credential looked up once, a challenge answered, a
/// realm judged before any credential is looked up for it (never plain HTTP to another host), and
/// a token fetched and cached per scope.
/// </summary>
internal sealed partial class RegistryClient
{
    /// <summary>The stored credential for the registry's host, looked up once; its secrets join those hidden.</summary>
    private Credential? Credential()
    {
        lock (_gate)
        {
            if (!_credentialLooked)
            {
                _credential = CredentialStore.Find(Reference.Host, _options, Timeout);
                _credentialLooked = true;
                if (_credential is { } c)
                {
                    Secrets.Add(c.Secret);
                    if (c.User is not null && c.Secret is not null) Secrets.Add($"{c.User}:{c.Secret}");
                    Secrets.Add(c.IdentityToken);
                }
            }
            return _credential;
        }
    }

    /// <summary>
    /// Answers a challenge: Basic with the stored credential, or a Bearer token for the scope asked. Where
    /// the credential could go is settled before it is looked up (a hostile challenge must not even start
    /// a credential helper).
    /// </summary>
    private void Authorize(AuthenticationHeaderValue? challenge, CancellationToken ct)
    {
        if (challenge is null) throw new ImageException(FaultKind.Unauthorized, Text.Fill(Strings.Registry_ChallengeMissing, Describe));
        if (string.Equals(challenge.Scheme, "Basic", StringComparison.OrdinalIgnoreCase))
        {
            if (_base.Scheme == "http" && !Reference.IsLoopback)
                throw new ImageException(FaultKind.Unauthorized, Text.Fill(Strings.Registry_CredentialsOverHttp, Describe));
            if (Credential() is not { BasicHeader: { } basic } stored)
                throw new ImageException(FaultKind.Unauthorized, Text.Fill(Strings.Registry_NoCredentials, Describe, Reference.Host));
            _sent = stored;
            Volatile.Write(ref _authorization, "Basic " + basic);
            return;
        }
        if (!string.Equals(challenge.Scheme, "Bearer", StringComparison.OrdinalIgnoreCase))
            throw new ImageException(FaultKind.Unsupported, Text.Fill(Strings.Registry_AuthSchemeUnsupported, Describe, Secrets.Scrub(challenge.Scheme)));
        var parameters = ChallengeParameters(challenge.Parameter ?? "");
        if (!parameters.TryGetValue("realm", out var realm) || !Uri.TryCreate(realm, UriKind.Absolute, out var realmUri))
            throw new ImageException(FaultKind.Damaged, Text.Fill(Strings.Registry_TokenRealmInvalid, Describe));
        CheckRealm(realmUri);
        var scope = parameters.GetValueOrDefault("scope") ?? $"repository:{Reference.Repository}:pull";
        lock (_gate)
        {
            if (_tokens.TryGetValue(scope, out var cached) && cached.Until > DateTime.UtcNow && $"Bearer {cached.Token}" != _authorization)
            {
                _authorization = "Bearer " + cached.Token;
                return;
            }
        }
        // plain HTTP to another host is asked with no credentials at all: --insecure relaxes the registry's own transport,
        // never where credentials go; nor is a token they would buy, since it then goes to the registry over plain HTTP
        Credential? credential = null;
        if (!(realmUri.Scheme == "https" || IsLoopbackHost(realmUri.Host)))
            _withheld = Text.Fill(Strings.Registry_CredentialsWithheld, HostOf(realmUri));
        else if (!(_base.Scheme == "https" || Reference.IsLoopback))
            _withheld = Text.Fill(Strings.Registry_CredentialsWithheld, Reference.Host);
        else
            credential = Credential();
        var token = FetchToken(realmUri, parameters.GetValueOrDefault("service"), scope, credential, ct);
        lock (_gate)
        {
            _tokens[scope] = token;
            _authorization = "Bearer " + token.Token;
        }
    }

    /// <summary>
    /// A realm is HTTPS or HTTP; on this machine's loopback only for a registry that is on it too; never
    /// on a link-local or unspecified address that is not the registry's own (as dotnet/sdk's
    /// ValidateRealmUri has it).
    /// </summary>
    private void CheckRealm(Uri realm)
    {
        if (realm.Scheme is not ("https" or "http"))
            throw new ImageException(FaultKind.Unsupported, Text.Fill(Strings.Registry_RealmSchemeRefused, Describe, realm.Scheme));
        var host = HostOf(realm);
        bool refused = IsLoopbackHost(host) ? !Reference.IsLoopback
            : IPAddress.TryParse(host, out var ip) && IsLinkLocalOrUnspecified(ip) && !string.Equals(host, Reference.HostWithoutPort.Trim('[', ']'), StringComparison.OrdinalIgnoreCase);
        if (refused)
            throw new ImageException(FaultKind.Unsupported, Text.Fill(Strings.Registry_RealmHostRefused, Describe, host));
    }

    /// <summary>A URI's host as DNS and the runtime see it: no brackets, no trailing dot.</summary>
    private static string HostOf(Uri uri)
    {
        var host = uri.IdnHost.Trim('[', ']');
        return host.Length > 1 && host[^1] == '.' ? host[..^1] : host;
    }

    private static bool IsLinkLocalOrUnspecified(IPAddress ip)
    {
        if (ip.IsIPv4MappedToIPv6) ip = ip.MapToIPv4();
        if (ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6)
            return ip.IsIPv6LinkLocal || ip.Equals(IPAddress.IPv6Any);
        var b = ip.GetAddressBytes();
        return b[0] == 0 || (b[0] == 169 && b[1] == 254);
    }

    /// <summary>Gets a token from the realm: GET with Basic credentials (or none), or POST with an identity token.</summary>
    private (string Token, DateTime Until) FetchToken(Uri realm, string? service, string scope, Credential? credential, CancellationToken ct)
    {
        var query = new List<string>();
        if (service is not null) query.Add("service=" + Uri.EscapeDataString(service));
        query.Add("scope=" + Uri.EscapeDataString(scope));
        HttpRequestMessage request;
        if (credential?.IdentityToken is { } identity)
        {
            request = new HttpRequestMessage(HttpMethod.Post, realm)
            {
                Content = new FormUrlEncodedContent(new Dictionary<string, string>
                {
                    ["grant_type"] = "refresh_token", ["refresh_token"] = identity, ["service"] = service ?? "", ["scope"] = scope, ["client_id"] = "layerdive",
                }),
            };
        }
        else
        {
            request = new HttpRequestMessage(HttpMethod.Get, new UriBuilder(realm) { Query = string.Join('&', query) }.Uri);
            if (credential?.BasicHeader is { } basic) request.Headers.TryAddWithoutValidation("Authorization", "Basic " + basic);
        }
        if (credential is not null) _sent = credential;
        using (request)
        {
            HttpResponseMessage response;
            try
            {
                response = SendWithin(request, Timeout, ct);
            }
            catch (Exception ex) when (IsNetworkFault(ex, ct))
            {
                throw new ImageException(FaultKind.Unreachable, Text.Fill(Strings.Registry_TokenServiceUnreachable, Describe, realm.GetLeftPart(UriPartial.Authority), ex is OperationCanceledException ? Text.Fill(Strings.Registry_NoAnswer, TimedReadStream.Seconds(Timeout)) : (ex.InnerException ?? ex).Message));
            }
            using (response)
            {
                if (!response.IsSuccessStatusCode)
                    throw new ImageException(FaultKind.Unauthorized, Text.Fill(Strings.Registry_TokenRefused, Describe, Secrets.Scrub(scope), (int)response.StatusCode, ErrorText(response), Who(credential)));
                var bytes = HttpBodies.ReadDocument(response, MaxTokenAnswer, Timeout, TimeoutVariable,
                    tooLarge: _ => new ImageException(FaultKind.Damaged, Text.Fill(Strings.Registry_TokenTooLarge, Describe, MaxTokenAnswer)),
                    failed: why => new ImageException(FaultKind.Unreachable, Text.Fill(Strings.Registry_TokenServiceUnreachable, Describe, realm.GetLeftPart(UriPartial.Authority), why)), ct);
                try
                {
                    using var doc = JsonDocument.Parse(bytes);
                    var token = (doc.RootElement.ValueKind == JsonValueKind.Object ? doc.RootElement.String("token") ?? doc.RootElement.String("access_token") : null)
                        ?? throw new ImageException(FaultKind.Damaged, Text.Fill(Strings.Registry_TokenMissing, Describe));
                    Secrets.Add(token);
                    // RFC 6750 / the distribution spec: 60 s when the answer does not say
                    var seconds = doc.RootElement.Long("expires_in") is long e && e > 0 ? e : 60;
                    return (token, DateTime.UtcNow.AddSeconds(Math.Max(1, Math.Min(seconds, 86_400) - 5)));
                }
                catch (JsonException)
                {
                    throw new ImageException(FaultKind.Damaged, Text.Fill(Strings.Registry_TokenAnswerNotJson, Describe));
                }
            }
        }
    }

    /// <summary>localhost, a name under .localhost (RFC 6761), or a loopback address.</summary>
    internal static bool IsLoopbackHost(string host)
    {
        host = host.Trim('[', ']');
        if (host.Length > 1 && host[^1] == '.') host = host[..^1];
        return host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase)
            || (IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip.IsIPv4MappedToIPv6 ? ip.MapToIPv4() : ip));
    }

    /// <summary>key="value" pairs of a challenge (realm, service, scope), quoted values with commas kept whole.</summary>
    internal static Dictionary<string, string> ChallengeParameters(string text)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        int i = 0;
        while (i < text.Length)
        {
            while (i < text.Length && (text[i] == ',' || char.IsWhiteSpace(text[i]))) i++;
            int eq = text.IndexOf('=', i);
            if (eq < 0) break;
            string key = text[i..eq].Trim();
            i = eq + 1;
            string value;
            if (i < text.Length && text[i] == '"')
            {
                int end = text.IndexOf('"', i + 1);
                if (end < 0) end = text.Length;
                value = text[(i + 1)..end];
                i = end + 1;
            }
            else
            {
                int end = text.IndexOf(',', i);
                if (end < 0) end = text.Length;
                value = text[i..end].Trim();
                i = end;
            }
            result[key] = value;
        }
        return result;
    }
}
