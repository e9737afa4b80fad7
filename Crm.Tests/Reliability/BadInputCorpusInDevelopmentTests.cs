using Crm.Tests.Infrastructure;

namespace Crm.Tests.Reliability;

public class BadInputCorpusInDevelopmentTests(DevelopmentBadInputCorpusFactory factory)
    : BadInputCorpusTests<DevelopmentBadInputCorpusFactory>(factory), IClassFixture<DevelopmentBadInputCorpusFactory>;
