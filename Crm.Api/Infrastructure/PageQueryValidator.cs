using FluentValidation;

namespace Crm.Api.Infrastructure;

public sealed class PageQueryValidator : AbstractValidator<PageQuery>
{
    public PageQueryValidator()
    {
        this.ValidPaging();
    }
}
