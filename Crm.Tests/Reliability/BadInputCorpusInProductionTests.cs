using Crm.Tests.Infrastructure;

namespace Crm.Tests.Reliability;

public class BadInputCorpusInProductionTests(BadInputCorpusFactory factory)
    : BadInputCorpusTests<BadInputCorpusFactory>(factory), IClassFixture<BadInputCorpusFactory>
{
    public static TheoryData<MalformedRequest> OutsideDevelopment => BadInputCorpus.ProductionCases();

    [Theory]
    [MemberData(nameof(OutsideDevelopment))]
    public Task AWebhookUrlThatOnlyDevelopmentAcceptsIsRefusedAndWritesNothing(MalformedRequest request) =>
        CorpusAssertions.AssertRefusedAsync(Factory, Client, request);
}
