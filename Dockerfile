# One image, three roles: `migrate` (one-shot), `--role api`, `--role worker` (see docker-compose.yml).
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# Restore first, from the project files only, so the layer survives source edits.
COPY global.json Directory.Build.props Directory.Packages.props ./
COPY Crm.Jobs/Crm.Jobs.csproj Crm.Jobs/
COPY Crm.Api/Crm.Api.csproj Crm.Api/
RUN dotnet restore Crm.Api/Crm.Api.csproj
COPY Crm.Jobs/ Crm.Jobs/
COPY Crm.Api/ Crm.Api/
RUN dotnet publish Crm.Api/Crm.Api.csproj -c Release -o /app --no-restore

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /app ./
# The image's unprivileged user (uid 1654); nothing here needs root.
USER app
ENV ASPNETCORE_URLS=http://+:8080 \
    ASPNETCORE_ENVIRONMENT=Production \
    DOTNET_gcServer=0
EXPOSE 8080
ENTRYPOINT ["dotnet", "Crm.Api.dll"]
