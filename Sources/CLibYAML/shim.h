#ifndef SWANSIBLE_CLIBYAML_SHIM_H
#define SWANSIBLE_CLIBYAML_SHIM_H
#include <yaml.h>
#endif
