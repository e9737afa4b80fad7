using System.Text.RegularExpressions;
using Crm.Tests.Infrastructure;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Crm.Tests.Reliability;

public abstract partial class BadInputCorpusTests<TFactory>(TFactory factory) where TFactory : BadInputCorpusFactory
{
    protected TFactory Factory => factory;

    protected HttpClient Client { get; } = factory.CreateClient();

    public static TheoryData<MalformedRequest> Corpus => BadInputCorpus.Cases();

    [Theory]
    [MemberData(nameof(Corpus))]
    public Task AMalformedRequestGetsAClearAnswerWithoutInternalsAndWritesNothing(MalformedRequest request) =>
        CorpusAssertions.AssertRefusedAsync(factory, Client, request);

    // Every route of the app's own endpoint table has malformed requests of its method in
    // the corpus (at least two), so a new route cannot be left out.
    [Fact]
    public void TheCorpusHasAtLeast150CasesAndReachesEveryRouteOfTheEndpointTable()
    {
        var cases = BadInputCorpus.All().ToList();
        Assert.True(cases.Count >= 150, $"only {cases.Count} cases");
        Assert.Equal(cases.Count, cases.Select(c => c.ToString()).Distinct().Count());

        var endpoints = factory.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.StartsWith("/api") == true)
            .SelectMany(e => e.Metadata.GetMetadata<HttpMethodMetadata>()!.HttpMethods.Select(m => (Method: m, Pattern: e.RoutePattern.RawText!)))
            .ToList();
        Assert.True(endpoints.Count >= 20, $"only {endpoints.Count} endpoints");
        foreach (var (method, pattern) in endpoints)
        {
            // Routing serves a path with or without its trailing slash (the original Django routes have one).
            var regex = new Regex("^" + RouteParameter().Replace(Regex.Escape(pattern.TrimEnd('/')), "[^/]+") + "/?$");
            var hits = cases.Count(c => c.Method == method
                && regex.IsMatch(factory.Ids.Aggregate(c.Path.Split('?')[0], (p, id) => p.Replace(id.Key, id.Value))));
            Assert.True(hits >= 2, $"{method} {pattern}: only {hits} malformed requests in the corpus");
        }
    }

    [GeneratedRegex(@"\\\{[^/]+?}")]
    private static partial Regex RouteParameter();
}
