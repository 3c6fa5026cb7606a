public import SwansibleData
