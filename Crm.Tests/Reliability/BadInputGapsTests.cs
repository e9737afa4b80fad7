using Crm.Tests.Infrastructure;

namespace Crm.Tests.Reliability;

// Malformed requests that once were accepted and wrote something: a comma list read as a
// combination of enum values, and control characters after a customer phone.
public class BadInputGapsTests(BadInputCorpusFactory factory) : IClassFixture<BadInputCorpusFactory>
{
    public static TheoryData<MalformedRequest> Gaps => BadInputCorpus.Gaps();

    [Theory]
    [MemberData(nameof(Gaps))]
    public Task AMalformedRequestThatOnceGotThroughIsRefusedAndWritesNothing(MalformedRequest request) =>
        CorpusAssertions.AssertRefusedAsync(factory, factory.CreateClient(), request);
}
