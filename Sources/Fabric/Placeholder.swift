// placeholder until the first Fabric file lands
